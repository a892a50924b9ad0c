// CUDA backend: lk_last_error, device selection, streams, memory, library-owned scratch.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "common.cuh"

namespace lk {

namespace {
int g_device = -1;
void *g_scratch[SCRATCH_SLOTS] = {};
size_t g_scratch_bytes[SCRATCH_SLOTS] = {};
std::vector<void *> g_retired;  // outgrown scratch that recorded graphs may still use
}  // namespace

cudaStream_t g_stream = nullptr;
int g_sm_count = 132;
int g_cc_major = 0;
bool g_pdl = false;
bool g_batch_invariant = false;

int cuda_check(cudaError_t e, const char *op) {
  if (e == cudaSuccess) return LK_OK;
  return fail(e == cudaErrorMemoryAllocation ? LK_ERR_OOM : LK_ERR_DEVICE, "%s: CUDA error %s (%s)", op,
              cudaGetErrorName(e), cudaGetErrorString(e));
}

int launch_check(const char *op) { return cuda_check(cudaGetLastError(), op); }

void *scratch(size_t bytes, ScratchSlot slot) {
  if (g_scratch_bytes[slot] < bytes) {
    if (g_scratch[slot]) g_retired.push_back(g_scratch[slot]);
    g_scratch[slot] = nullptr;
    g_scratch_bytes[slot] = 0;
    if (cudaMalloc(&g_scratch[slot], bytes) != cudaSuccess) return nullptr;
    g_scratch_bytes[slot] = bytes;
  }
  return g_scratch[slot];
}

}  // namespace lk

using namespace lk;

extern "C" {

const char *lk_backend(void) { return "cuda"; }
const char *lk_last_error(void) { return last_error().c_str(); }

int lk_device_count(void) {
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    fail(LK_ERR_DEVICE, "cudaGetDeviceCount: %s", cudaGetErrorString(e));
    return 0;
  }
  return n;
}

int lk_device_name(int device, char *out, int out_len) {
  cudaDeviceProp p;
  LK_CHECK(cuda_check(cudaGetDeviceProperties(&p, device), "device_name"));
  snprintf(out, out_len, "%s (sm_%d%d, %d SMs, %.0f GiB)", p.name, p.major, p.minor, p.multiProcessorCount,
           p.totalGlobalMem / 1073741824.0);
  return LK_OK;
}

int lk_init(int device) {
  if (g_device == device) return LK_OK;
  LK_REQUIRE(g_device < 0, "cuda: this process already uses device %d; use one process per GPU", g_device);
  LK_CHECK(cuda_check(cudaSetDevice(device), "init"));
  cudaDeviceProp p;
  LK_CHECK(cuda_check(cudaGetDeviceProperties(&p, device), "init"));
  LK_REQUIRE(p.major >= 8, "cuda: device %d (%s) is sm_%d%d; loom's CUDA kernels need sm_80 or newer", device, p.name,
             p.major, p.minor);
  g_sm_count = p.multiProcessorCount;
  g_cc_major = p.major;
  // LOOM_PDL=0 launches every kernel in plain stream order (to compare, or to rule PDL out)
  const char *pdl = getenv("LOOM_PDL");
  g_pdl = p.major >= 9 && !(pdl && strcmp(pdl, "0") == 0);
  LK_CHECK(gemm_init());
  g_device = device;
  return LK_OK;
}

int lk_num_threads(void) { return g_sm_count; }

int lk_stream_create(lk_stream *out) {
  cudaStream_t s;
  LK_CHECK(cuda_check(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "stream_create"));
  *out = reinterpret_cast<uintptr_t>(s);
  return LK_OK;
}
int lk_stream_destroy(lk_stream s) {
  return cuda_check(cudaStreamDestroy(reinterpret_cast<cudaStream_t>(static_cast<uintptr_t>(s))), "stream_destroy");
}
int lk_set_batch_invariant(int on) {
  g_batch_invariant = on != 0;
  return LK_OK;
}
int lk_set_stream(lk_stream s) {
  g_stream = reinterpret_cast<cudaStream_t>(static_cast<uintptr_t>(s));
  return LK_OK;
}
int lk_graph_begin(void) {
  // the legacy default stream cannot be captured: graphs need a stream of the caller's (lk_set_stream)
  LK_REQUIRE(g_stream != nullptr, "graph: set a stream (lk_stream_create, lk_set_stream) before capturing");
  return cuda_check(cudaStreamBeginCapture(g_stream, cudaStreamCaptureModeThreadLocal), "graph_begin");
}
int lk_graph_end(lk_graph *out) {
  cudaGraph_t graph = nullptr;
  LK_CHECK(cuda_check(cudaStreamEndCapture(g_stream, &graph), "graph_end"));
  cudaGraphExec_t exec = nullptr;
  const int rc = cuda_check(cudaGraphInstantiate(&exec, graph, 0), "graph_instantiate");
  cudaGraphDestroy(graph);
  LK_CHECK(rc);
  *out = static_cast<lk_graph>(reinterpret_cast<uintptr_t>(exec));
  return LK_OK;
}
int lk_graph_launch(lk_graph g) {
  return cuda_check(cudaGraphLaunch(reinterpret_cast<cudaGraphExec_t>(static_cast<uintptr_t>(g)), g_stream), "graph_launch");
}
int lk_graph_destroy(lk_graph g) {
  return cuda_check(cudaGraphExecDestroy(reinterpret_cast<cudaGraphExec_t>(static_cast<uintptr_t>(g))), "graph_destroy");
}
int lk_synchronize(void) { return cuda_check(cudaStreamSynchronize(g_stream), "synchronize"); }

int lk_event_create(lk_event *out) {
  cudaEvent_t e;
  LK_CHECK(cuda_check(cudaEventCreateWithFlags(&e, cudaEventDisableTiming), "event_create"));
  *out = reinterpret_cast<uintptr_t>(e);
  return LK_OK;
}
int lk_event_destroy(lk_event e) {
  return cuda_check(cudaEventDestroy(reinterpret_cast<cudaEvent_t>(static_cast<uintptr_t>(e))), "event_destroy");
}
int lk_event_record(lk_event e) {
  return cuda_check(cudaEventRecord(reinterpret_cast<cudaEvent_t>(static_cast<uintptr_t>(e)), g_stream), "event_record");
}
int lk_stream_wait_event(lk_event e) {
  return cuda_check(cudaStreamWaitEvent(g_stream, reinterpret_cast<cudaEvent_t>(static_cast<uintptr_t>(e)), 0),
                    "stream_wait_event");
}

int lk_malloc(size_t bytes, lk_ptr *out) {
  void *p = nullptr;
  cudaError_t e = cudaMalloc(&p, bytes ? bytes : 1);
  if (e != cudaSuccess) {
    cudaGetLastError();
    size_t f = 0, t = 0;
    cudaMemGetInfo(&f, &t);
    return fail(LK_ERR_OOM, "cuda: out of memory allocating %.2f GiB (%.2f of %.2f GiB free)", bytes / 1073741824.0,
                f / 1073741824.0, t / 1073741824.0);
  }
  *out = reinterpret_cast<uintptr_t>(p);
  return LK_OK;
}

int lk_free(lk_ptr p) { return cuda_check(cudaFree(at<void>(p)), "free"); }

// Host copies are synchronous with respect to the host buffer (it may be freed right after).
int lk_copy_h2d(lk_ptr dst, const void *src, size_t bytes) {
  LK_CHECK(cuda_check(cudaMemcpyAsync(at<void>(dst), src, bytes, cudaMemcpyHostToDevice, g_stream), "copy_h2d"));
  return cuda_check(cudaStreamSynchronize(g_stream), "copy_h2d");
}
int lk_copy_d2h(void *dst, lk_ptr src, size_t bytes) {
  LK_CHECK(cuda_check(cudaMemcpyAsync(dst, at<void>(src), bytes, cudaMemcpyDeviceToHost, g_stream), "copy_d2h"));
  return cuda_check(cudaStreamSynchronize(g_stream), "copy_d2h");
}
int lk_copy_d2d(lk_ptr dst, lk_ptr src, size_t bytes) {
  return cuda_check(cudaMemcpyAsync(at<void>(dst), at<void>(src), bytes, cudaMemcpyDeviceToDevice, g_stream),
                    "copy_d2d");
}
int lk_memset0(lk_ptr p, size_t bytes) { return cuda_check(cudaMemsetAsync(at<void>(p), 0, bytes, g_stream), "memset"); }

int lk_mem_info(size_t *free_bytes, size_t *total_bytes) {
  return cuda_check(cudaMemGetInfo(free_bytes, total_bytes), "mem_info");
}

}  // extern "C"
