using System.Reflection;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using Longshot.Tensors.Cuda.Kernels;

namespace Longshot.Tensors.Cuda;

/// <summary>
/// Compiles every kernel of the backend to PTX without a GPU (ILGPU's PTX backend needs no driver), so a machine
/// without one still learns whether a kernel uses something the GPU cannot run. The CPU accelerator would run such
/// a kernel as plain .NET.
/// </summary>
public static class PtxCompiler
{
    /// <summary>The kernels: (method, explicitly grouped).</summary>
    internal static IEnumerable<(MethodInfo Method, bool Grouped)> Kernels()
    {
        static MethodInfo M(Type t, string name) => t.GetMethod(name, BindingFlags.Public | BindingFlags.Static)!;
        foreach (var n in new[] { "Unary", "UnaryBackward", "Binary", "Copy", "Fill", "Affine", "AdamW",
                     "Embedding", "EmbeddingBackward" })
            yield return (M(typeof(ElementwiseKernels), n), false);
        foreach (var n in new[] { "SumRows", "Softmax", "SoftmaxBackward", "GroupNorm", "GroupNormBackward",
                     "LayerNorm", "LayerNormBackward" })
            yield return (M(typeof(RowKernels), n), true);
        yield return (M(typeof(GemmKernels), "Gemm"), true);
        yield return (M(typeof(GemmKernels), "Direct"), false);
        foreach (var n in new[] { "Im2Col", "Col2Im", "AvgPool" }) yield return (M(typeof(ConvKernels), n), false);
        foreach (var n in new[] { "Forward", "BackwardQuery", "BackwardKey" })
            yield return (M(typeof(AttentionKernels), n), true);
    }

    /// <summary>Every kernel's PTX for compute capability <paramref name="major"/>.<paramref name="minor"/> (9.0:
    /// H100/H200), by kernel name.</summary>
    public static Dictionary<string, string> CompileAll(int major = 9, int minor = 0)
    {
        using var context = Context.Create(b => b.Cuda().EnableAlgorithms());
        using var backend = new PTXBackend(context, new CudaArchitecture(major, minor), CudaInstructionSet.ISA_83,
            null!); // no NVVM: the kernels use no libdevice functions
        var result = new Dictionary<string, string>();
        foreach (var (method, grouped) in Kernels())
        {
            var entry = grouped ? EntryPointDescription.FromExplicitlyGroupedKernel(method)
                : EntryPointDescription.FromImplicitlyGroupedKernel(method);
            var kernel = (PTXCompiledKernel)backend.Compile(entry, new KernelSpecialization());
            result[$"{method.DeclaringType!.Name}.{method.Name}"] = kernel.PTXAssembly;
        }
        return result;
    }
}
