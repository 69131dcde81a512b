/* A STAND-IN for NVIDIA's libnvidia-ml.so.1, for tests only: this machine has no NVIDIA driver,
 * so the NVML code path of d2l is exercised against this small library, which exports the same C
 * functions with made-up values. It is not NVML and says so in every name it returns.
 *
 * D2L_NVML_STANDIN_MODE selects the behaviour:
 *   unset or "ok"  two GPUs; GPU 1 answers "not supported" for temperature, power and clocks
 *   "mismatch"     nvmlInit fails with "Driver/library version mismatch" (NVML error 18)
 *   "nodevice"     initialises, with no GPU
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int nvmlReturn_t;
typedef void* nvmlDevice_t;
typedef struct {
  unsigned long long total, free, used;
} nvmlMemory_t;
typedef struct {
  unsigned int gpu, memory;
} nvmlUtilization_t;
typedef struct {
  unsigned int pid;
  unsigned long long usedGpuMemory;
  unsigned int gpuInstanceId, computeInstanceId;
} nvmlProcessInfo_t;

enum { OK = 0, INVALID = 2, NOT_SUPPORTED = 3, INSUFFICIENT = 7, MISMATCH = 18 };
static int g_devices[2] = {0, 1};

static const char* mode(void) {
  const char* m = getenv("D2L_NVML_STANDIN_MODE");
  return m ? m : "ok";
}
static int count(void) { return strcmp(mode(), "nodevice") == 0 ? 0 : 2; }
static int index_of(nvmlDevice_t d) { return d == &g_devices[1] ? 1 : 0; }
static nvmlReturn_t copy(char* buf, unsigned len, const char* s) {
  if (!buf || strlen(s) + 1 > len) return INSUFFICIENT;
  strcpy(buf, s);
  return OK;
}

nvmlReturn_t nvmlInit_v2(void) { return strcmp(mode(), "mismatch") == 0 ? MISMATCH : OK; }
nvmlReturn_t nvmlShutdown(void) { return OK; }
const char* nvmlErrorString(nvmlReturn_t r) {
  switch (r) {
    case OK:
      return "Success";
    case NOT_SUPPORTED:
      return "Not Supported";
    case MISMATCH:
      return "Driver/library version mismatch";
    default:
      return "Unknown Error";
  }
}
nvmlReturn_t nvmlSystemGetDriverVersion(char* v, unsigned len) {
  return copy(v, len, "999.0.0-standin");
}
nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(int* v) {
  *v = 12040;
  return OK;
}
nvmlReturn_t nvmlDeviceGetCount_v2(unsigned* n) {
  *n = (unsigned)count();
  return OK;
}
nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned i, nvmlDevice_t* d) {
  if ((int)i >= count()) return INVALID;
  *d = &g_devices[i];
  return OK;
}
nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t d, char* n, unsigned len) {
  return copy(n, len, index_of(d) ? "Stand-in GPU B" : "Stand-in GPU A");
}
nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t d, char* n, unsigned len) {
  return copy(n, len, index_of(d) ? "GPU-standin-b" : "GPU-standin-a");
}
nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t d, nvmlMemory_t* m) {
  m->total = index_of(d) ? 40ULL << 30 : 80ULL << 30;
  m->used = index_of(d) ? 0 : 1ULL << 30;
  m->free = m->total - m->used;
  return OK;
}
nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t d, nvmlUtilization_t* u) {
  u->gpu = index_of(d) ? 0 : 42;
  u->memory = index_of(d) ? 0 : 17;
  return OK;
}
nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t d, unsigned sensor, unsigned* t) {
  if (index_of(d) || sensor != 0) return NOT_SUPPORTED;
  *t = 55;
  return OK;
}
nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t d, unsigned* mw) {
  if (index_of(d)) return NOT_SUPPORTED;
  *mw = 123456;
  return OK;
}
nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t d, unsigned* mw) {
  if (index_of(d)) return NOT_SUPPORTED;
  *mw = 700000;
  return OK;
}
nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t d, unsigned type, unsigned* mhz) {
  if (index_of(d)) return NOT_SUPPORTED;
  *mhz = type == 2 ? 2619 : 1980;
  return OK;
}
nvmlReturn_t nvmlDeviceGetMaxClockInfo(nvmlDevice_t d, unsigned type, unsigned* mhz) {
  return nvmlDeviceGetClockInfo(d, type, mhz);
}
nvmlReturn_t nvmlDeviceGetCudaComputeCapability(nvmlDevice_t d, int* major, int* minor) {
  *major = index_of(d) ? 8 : 9;
  *minor = 0;
  return OK;
}
nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t d, unsigned* current, unsigned* pending) {
  *current = *pending = index_of(d) ? 1 : 0;
  return OK;
}
/* GPU A runs one compute process: the process that loaded this library. */
nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t d, unsigned* n,
                                                     nvmlProcessInfo_t* p) {
  const unsigned have = index_of(d) ? 0 : 1;
  if (!p || *n < have) {
    *n = have;
    return have ? INSUFFICIENT : OK;
  }
  *n = have;
  if (have) {
    p[0].pid = (unsigned)getpid();
    p[0].usedGpuMemory = 512ULL << 20;
    p[0].gpuInstanceId = p[0].computeInstanceId = 0xFFFFFFFFu;
  }
  return OK;
}
nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v3(nvmlDevice_t d, unsigned* n,
                                                      nvmlProcessInfo_t* p) {
  (void)d;
  (void)p;
  *n = 0;
  return OK;
}
