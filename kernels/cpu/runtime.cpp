// CPU backend: lk_last_error, memory, streams (a no-op: work runs synchronously) and the device list.
#include <cstdio>
#include <cstdlib>

#include <unistd.h>

#include "common.h"

using namespace lk;

extern "C" {

const char *lk_backend(void) { return "cpu"; }
const char *lk_last_error(void) { return last_error().c_str(); }
int lk_device_count(void) { return 1; }

int lk_device_name(int device, char *out, int out_len) {
  LK_REQUIRE(device == 0, "cpu: no device %d (the CPU backend has device 0 only)", device);
  snprintf(out, out_len, "%d OpenMP threads", omp_get_max_threads());
  return LK_OK;
}

int lk_init(int device) {
  LK_REQUIRE(device == 0, "cpu: no device %d (the CPU backend has device 0 only)", device);
  return LK_OK;
}

int lk_num_threads(void) { return omp_get_max_threads(); }

int lk_stream_create(lk_stream *out) {
  *out = 0;
  return LK_OK;
}
int lk_stream_destroy(lk_stream) { return LK_OK; }
int lk_set_stream(lk_stream) { return LK_OK; }
int lk_synchronize(void) { return LK_OK; }
// every CPU kernel sums a row in one order whatever the batch
int lk_set_batch_invariant(int) { return LK_OK; }

// Work runs as it is called on the CPU: there is nothing to record.
int lk_graph_begin(void) { return fail(LK_ERR_UNSUPPORTED, "graph: the CPU backend runs work as it is called"); }
int lk_graph_end(lk_graph *) { return fail(LK_ERR_UNSUPPORTED, "graph: the CPU backend runs work as it is called"); }
int lk_graph_launch(lk_graph) { return fail(LK_ERR_UNSUPPORTED, "graph: the CPU backend runs work as it is called"); }
int lk_graph_destroy(lk_graph) { return LK_OK; }
// The CPU runs every op synchronously, so there is nothing to order.
int lk_event_create(lk_event *out) {
  *out = 0;
  return LK_OK;
}
int lk_event_destroy(lk_event) { return LK_OK; }
int lk_event_record(lk_event) { return LK_OK; }
int lk_stream_wait_event(lk_event) { return LK_OK; }

int lk_malloc(size_t bytes, lk_ptr *out) {
  void *p = std::aligned_alloc(256, ((bytes + 255) / 256) * 256 + 256);
  if (!p) return fail(LK_ERR_OOM, "cpu: out of memory allocating %zu bytes", bytes);
  *out = reinterpret_cast<uintptr_t>(p);
  return LK_OK;
}

int lk_free(lk_ptr p) {
  std::free(at<void>(p));
  return LK_OK;
}

int lk_copy_h2d(lk_ptr dst, const void *src, size_t bytes) {
  std::memcpy(at<void>(dst), src, bytes);
  return LK_OK;
}
int lk_copy_d2h(void *dst, lk_ptr src, size_t bytes) {
  std::memcpy(dst, at<void>(src), bytes);
  return LK_OK;
}
int lk_copy_d2d(lk_ptr dst, lk_ptr src, size_t bytes) {
  std::memmove(at<void>(dst), at<void>(src), bytes);
  return LK_OK;
}
int lk_memset0(lk_ptr p, size_t bytes) {
  std::memset(at<void>(p), 0, bytes);
  return LK_OK;
}

int lk_mem_info(size_t *free_bytes, size_t *total_bytes) {
  long pages = sysconf(_SC_PHYS_PAGES), avail = sysconf(_SC_AVPHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
  *total_bytes = (size_t)pages * size;
  *free_bytes = (size_t)avail * size;
  return LK_OK;
}

// NCCL is a CUDA-backend feature; the CPU backend is single-process.
int lk_nccl_unique_id(void *) { return fail(LK_ERR_UNSUPPORTED, "cpu: NCCL needs the CUDA backend"); }
int lk_nccl_init(int, int, const void *) { return fail(LK_ERR_UNSUPPORTED, "cpu: NCCL needs the CUDA backend"); }
int lk_nccl_all_reduce(lk_ptr, int64_t, int, int) { return fail(LK_ERR_UNSUPPORTED, "cpu: NCCL needs the CUDA backend"); }
int lk_nccl_broadcast(lk_ptr, int64_t, int, int) { return fail(LK_ERR_UNSUPPORTED, "cpu: NCCL needs the CUDA backend"); }
int lk_nccl_destroy(void) { return LK_OK; }

}  // extern "C"
