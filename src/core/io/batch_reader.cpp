// Placeholder: the io_uring batch reader lands with the export issue.
namespace qb::io {}
