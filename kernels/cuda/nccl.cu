// CUDA backend: NCCL all-reduce and broadcast for data parallelism, one process per GPU.
// libnccl is opened at run time (dlopen), so the library builds and loads where NCCL is absent
// and only these calls fail, with a message saying so.
#include <dlfcn.h>

#include "common.cuh"

using namespace lk;

namespace {

// The few NCCL declarations used here (stable ABI since NCCL 2.0).
typedef struct {
  char internal[128];
} NcclId;
typedef void *NcclComm;
enum { NCCL_INT32 = 2, NCCL_FLOAT32 = 7, NCCL_BFLOAT16 = 9 };
enum { NCCL_SUM = 0, NCCL_AVG = 4 };

struct Nccl {
  void *lib = nullptr;
  int (*get_unique_id)(NcclId *) = nullptr;
  int (*comm_init_rank)(NcclComm *, int, NcclId, int) = nullptr;
  int (*all_reduce)(const void *, void *, size_t, int, int, NcclComm, cudaStream_t) = nullptr;
  int (*broadcast)(const void *, void *, size_t, int, int, NcclComm, cudaStream_t) = nullptr;
  int (*comm_destroy)(NcclComm) = nullptr;
  const char *(*error_string)(int) = nullptr;
} nccl;
NcclComm comm = nullptr;

int load() {
  if (nccl.lib) return LK_OK;
  const char *names[] = {getenv("LOOM_NCCL_LIBRARY"), "libnccl.so.2", "libnccl.so"};
  for (const char *n : names)
    if (n && (nccl.lib = dlopen(n, RTLD_NOW | RTLD_GLOBAL))) break;
  if (!nccl.lib)
    return fail(LK_ERR_UNSUPPORTED, "nccl: libnccl.so.2 not found (%s); install NCCL or set LOOM_NCCL_LIBRARY", dlerror());
  nccl.get_unique_id = reinterpret_cast<decltype(nccl.get_unique_id)>(dlsym(nccl.lib, "ncclGetUniqueId"));
  nccl.comm_init_rank = reinterpret_cast<decltype(nccl.comm_init_rank)>(dlsym(nccl.lib, "ncclCommInitRank"));
  nccl.all_reduce = reinterpret_cast<decltype(nccl.all_reduce)>(dlsym(nccl.lib, "ncclAllReduce"));
  nccl.broadcast = reinterpret_cast<decltype(nccl.broadcast)>(dlsym(nccl.lib, "ncclBroadcast"));
  nccl.comm_destroy = reinterpret_cast<decltype(nccl.comm_destroy)>(dlsym(nccl.lib, "ncclCommDestroy"));
  nccl.error_string = reinterpret_cast<decltype(nccl.error_string)>(dlsym(nccl.lib, "ncclGetErrorString"));
  if (!nccl.get_unique_id || !nccl.comm_init_rank || !nccl.all_reduce || !nccl.broadcast || !nccl.comm_destroy ||
      !nccl.error_string) {
    dlclose(nccl.lib);
    nccl.lib = nullptr;
    return fail(LK_ERR_UNSUPPORTED, "nccl: the loaded libnccl lacks the expected symbols");
  }
  return LK_OK;
}

int check(int r, const char *op) {
  return r == 0 ? LK_OK : fail(LK_ERR_DEVICE, "nccl: %s failed: %s", op, nccl.error_string(r));
}

int nccl_type(int dt) { return dt == LK_BF16 ? NCCL_BFLOAT16 : dt == LK_I32 ? NCCL_INT32 : NCCL_FLOAT32; }

}  // namespace

extern "C" {

int lk_nccl_unique_id(void *out128) {
  LK_CHECK(load());
  NcclId id;
  LK_CHECK(check(nccl.get_unique_id(&id), "ncclGetUniqueId"));
  memcpy(out128, &id, sizeof id);
  return LK_OK;
}

int lk_nccl_init(int world, int rank, const void *id128) {
  LK_CHECK(load());
  LK_REQUIRE(!comm, "nccl: already initialized in this process");
  LK_REQUIRE(world > 0 && rank >= 0 && rank < world, "nccl: rank %d outside world %d", rank, world);
  NcclId id;
  memcpy(&id, id128, sizeof id);
  return check(nccl.comm_init_rank(&comm, world, id, rank), "ncclCommInitRank");
}

int lk_nccl_all_reduce(lk_ptr buf, int64_t n, int dt, int average) {
  LK_REQUIRE(comm, "nccl: call lk_nccl_init first");
  LK_REQUIRE(!(average && dt == LK_I32), "nccl: averaging int32 is not supported");
  return check(nccl.all_reduce(at<void>(buf), at<void>(buf), (size_t)n, nccl_type(dt), average ? NCCL_AVG : NCCL_SUM,
                               comm, g_stream),
               "ncclAllReduce");
}

int lk_nccl_broadcast(lk_ptr buf, int64_t n, int dt, int root) {
  LK_REQUIRE(comm, "nccl: call lk_nccl_init first");
  return check(nccl.broadcast(at<void>(buf), at<void>(buf), (size_t)n, nccl_type(dt), root, comm, g_stream),
               "ncclBroadcast");
}

int lk_nccl_destroy(void) {
  if (!comm) return LK_OK;
  const int r = nccl.comm_destroy(comm);
  comm = nullptr;
  return check(r, "ncclCommDestroy");
}

}  // extern "C"
