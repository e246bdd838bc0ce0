// Times tfhe-go on its own parameter sets, one thread, as `fhe bench` times this engine:
// a NAND gate on ParamsBinary and one KS+PBS on ParamsUint4 (and the classic sets they
// extend, with BlockSize 1), the median of several runs of a fixed number of iterations.
// A measuring tool for BENCHMARKS.md (issue 16), run by scripts/compare-tfhe-go against a
// tfhe-go checkout; none of tfhe-go's code is in this repository.
package main

import (
	"flag"
	"fmt"
	"runtime"
	"sort"
	"time"

	"github.com/sp301415/tfhe-go/tfhe"
)

func median(runs int, iterations int, body func()) time.Duration {
	samples := make([]time.Duration, runs)
	for r := range samples {
		start := time.Now()
		for i := 0; i < iterations; i++ {
			body()
		}
		samples[r] = time.Since(start) / time.Duration(iterations)
	}
	sort.Slice(samples, func(a, b int) bool { return samples[a] < samples[b] })
	return samples[runs/2]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d.Nanoseconds())/1e6) }

func main() {
	runs := flag.Int("runs", 5, "timed runs (the median is printed)")
	iterations := flag.Int("iterations", 20, "operations per run")
	flag.Parse()
	runtime.GOMAXPROCS(1)

	binary := tfhe.ParamsBinary.Compile()
	benc := tfhe.NewBinaryEncryptor(binary)
	beval := tfhe.NewBinaryEvaluator(binary, benc.GenEvalKeyParallel())
	c0, c1 := benc.EncryptLWEBool(true), benc.EncryptLWEBool(false)
	out := tfhe.NewLWECiphertext(binary)
	beval.NANDTo(out, c0, c1)
	if benc.DecryptLWEBool(out) != true {
		panic("NAND(true, false) decrypted false")
	}
	fmt.Printf("tfhe-go ParamsBinary (n=%d, k=%d, N=%d, blocks of %d) nand: %s (p-fail by tfhe-go's estimate 2^%.1f)\n",
		binary.LWEDimension(), binary.GLWERank(), binary.PolyRank(), binary.BlockSize(),
		ms(median(*runs, *iterations, func() { beval.NANDTo(out, c0, c1) })), log2(binary.EstimateFailureProbability()))

	uint4 := tfhe.ParamsUint4.Compile()
	enc := tfhe.NewEncryptor(uint4)
	eval := tfhe.NewEvaluator(uint4, enc.GenEvalKeyParallel())
	ct := enc.EncryptLWE(3)
	lut := eval.GenLUT(func(x int) int { return (3*x + 1) % 16 })
	res := tfhe.NewLWECiphertext(uint4)
	eval.BootstrapLUTTo(res, ct, lut)
	if got := enc.DecryptLWE(res); got != 10 {
		panic(fmt.Sprintf("KS+PBS of 3 through 3x+1 decrypted %d, not 10", got))
	}
	fmt.Printf("tfhe-go ParamsUint4 (n=%d, k=%d, N=%d, blocks of %d) ks+pbs: %s (p-fail by tfhe-go's estimate 2^%.1f)\n",
		uint4.LWEDimension(), uint4.GLWERank(), uint4.PolyRank(), uint4.BlockSize(),
		ms(median(*runs, *iterations, func() { eval.BootstrapLUTTo(res, ct, lut) })), log2(uint4.EstimateFailureProbability()))
}
