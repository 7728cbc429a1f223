using Xunit;

namespace Longshot.Tensors.Cuda.Tests;

public class PtxTests
{
    [Fact]
    public void EveryKernelCompilesToPtx()
    {
        // Asked for 9.0 (H100/H200), ILGPU 1.5.3 writes sm_80 code at most, which the driver JIT-compiles for newer
        // GPUs.
        var ptx = PtxCompiler.CompileAll(9, 0);
        Assert.Equal(PtxCompiler.Kernels().Count(), ptx.Count);
        foreach (var (name, code) in ptx)
        {
            Assert.Contains(".target sm_80", code);
            Assert.Contains(".entry", code);
            Assert.True(code.Length > 200, name);
        }
        // Shared memory where the kernel stages tiles; none in the elementwise ones.
        Assert.Contains(".shared", ptx["GemmKernels.Gemm"]);
        Assert.Contains(".shared", ptx["AttentionKernels.Forward"]);
        Assert.Contains(".shared", ptx["AttentionKernels.BackwardKey"]);
        Assert.Contains("red.add.f32", ptx["ElementwiseKernels.EmbeddingBackward"]); // atomic: ids repeat
        Assert.DoesNotContain(".shared", ptx["ElementwiseKernels.Binary"]);
    }
}
