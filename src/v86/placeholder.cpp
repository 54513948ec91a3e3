// placeholder until this part lands
namespace qb::v86 {}
