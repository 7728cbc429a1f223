using System.CommandLine;
using Longshot.Tensors.Kernels;

namespace Longshot.Cli.Commands;

/// <summary>`longshot info`: the engine's configuration on this machine.</summary>
internal static class InfoCommand
{
    public static Command Create() =>
        new Command("info", "Prints the engine configuration (GEMM backend, SIMD level, threads).").Runs((_, _) =>
        {
            Console.WriteLine($"GEMM backend : {Gemm.Backend}");
            Console.WriteLine($"SIMD level   : {Gemm.SimdLevel}");
            Console.WriteLine($"threads      : {Threads.Count}");
            Console.WriteLine($"OpenBLAS     : {(Gemm.OpenBlasAvailable ? Gemm.OpenBlasPath : "not installed " +
                "(built-in GEMM used)")}");
            return 0;
        });
}
