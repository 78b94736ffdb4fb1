//go:build goexperiment.simd

package backend

// SIMDCompiled reports whether this binary was built with GOEXPERIMENT=simd, which compiles the Go backend's
// AVX2/AVX-512 matmul kernels (about 15x faster float32 matmul on amd64).
const SIMDCompiled = true
