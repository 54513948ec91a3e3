// placeholder until this part lands
namespace qb::qemu {}
