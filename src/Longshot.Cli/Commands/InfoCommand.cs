using System.CommandLine;
using Longshot.Tensors.Kernels;

namespace Longshot.Cli.Commands;

/// <summary>`longshot info`: the engine's configuration on this machine.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var ranks = CliOptions.Flag("--ranks", "under mpirun: check every communicator operation across the ranks");
        return new Command("info", "Prints the engine configuration (GEMM backend, SIMD level, threads).").With(ranks)
            .Runs((p, _) =>
        {
            if (p.GetValue(ranks))
            {
                var c = JobRanks.Current;
                var checkedOps = Longshot.Distributed.CommunicatorCheck.Run(c);
                if (c.Rank == 0)
                    Console.WriteLine($"{c.Size} rank(s), {c.LocalSize} on this machine, {Threads.Count} threads " +
                        $"each: " +
                                      $"{string.Join(", ", checkedOps)} OK");
                return 0;
            }
            Console.WriteLine($"GEMM backend : {Gemm.Backend}");
            Console.WriteLine($"SIMD level   : {Gemm.SimdLevel}");
            Console.WriteLine($"threads      : {Threads.Count}");
            Console.WriteLine($"OpenBLAS     : {(Gemm.OpenBlasAvailable ? Gemm.OpenBlasPath : "not installed " +
                "(built-in GEMM used)")}");
            return 0;
        });
    }
}
