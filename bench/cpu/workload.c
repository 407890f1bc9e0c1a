// A CPU benchmark workload for the interpreter (bench/cpu-mips.mjs): integer code as compilers
// emit it (-O2, RV64GC): CRC-32 over a buffer, an insertion+quick sort, a prime sieve, string
// scanning. Bare metal: no libc; results are checked so the work cannot be optimised away.
typedef unsigned long u64;
typedef unsigned int u32;
typedef unsigned char u8;

extern volatile u64 tohost;

static u8 buf[65536];
static u32 arr[4096];
static u8 sieve[65536];

static u32 crc32(const u8 *p, u64 n) {
  u32 c = 0xffffffffu;
  for (u64 i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & -(c & 1));
  }
  return ~c;
}

static void qsort_u32(u32 *a, long lo, long hi) {
  while (hi - lo > 16) {
    u32 pivot = a[(lo + hi) / 2];
    long i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) { u32 t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; }
    }
    if (j - lo < hi - i) { qsort_u32(a, lo, j); lo = i; } else { qsort_u32(a, i, hi); hi = j; }
  }
  for (long i = lo + 1; i <= hi; i++) {
    u32 v = a[i];
    long j = i - 1;
    while (j >= lo && a[j] > v) { a[j + 1] = a[j]; j--; }
    a[j + 1] = v;
  }
}

static u32 primes(void) {
  for (u32 i = 0; i < sizeof sieve; i++) sieve[i] = 1;
  u32 count = 0;
  for (u32 i = 2; i < sizeof sieve; i++) {
    if (!sieve[i]) continue;
    count++;
    for (u32 j = i * 2; j < sizeof sieve; j += i) sieve[j] = 0;
  }
  return count;
}

static u64 strwork(void) {
  static const char text[] = "the quick brown fox jumps over the lazy dog while the emulator counts every letter";
  u64 h = 5381;
  for (int r = 0; r < 200; r++)
    for (const char *p = text; *p; p++) h = h * 33 + (u8)*p + r;
  return h;
}

void main(u64 rounds) {
  u64 seed = 12345;
  u64 acc = 0;
  for (u64 r = 0; r < rounds; r++) {
    for (u32 i = 0; i < sizeof buf; i++) { seed = seed * 6364136223846793005ul + 1442695040888963407ul; buf[i] = seed >> 56; }
    acc += crc32(buf, 4096);
    for (u32 i = 0; i < 4096; i++) { seed = seed * 6364136223846793005ul + 1; arr[i] = seed >> 33; }
    qsort_u32(arr, 0, 4095);
    for (u32 i = 1; i < 4096; i++) if (arr[i - 1] > arr[i]) { tohost = 3; for (;;); }
    if (primes() != 6542) { tohost = 5; for (;;); }
    acc += strwork();
  }
  tohost = acc ? 1 : 7;
  for (;;);
}
