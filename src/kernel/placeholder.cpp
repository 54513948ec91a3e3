// placeholder until this part lands
namespace qb::kernel {}
