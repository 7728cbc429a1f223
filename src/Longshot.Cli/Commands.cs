using System.Diagnostics;
using Longshot.Tensors;
using Longshot.Tensors.Kernels;
using Longshot.Tensors.Nn;
using Longshot.Tensors.Optim;

namespace Longshot.Cli;

/// <summary>The `longshot` command line: parses arguments and reports; the work lives in the libraries.</summary>
internal static class Commands
{
    private static readonly string Usage = $$"""
        longshot <command> [options]

        Commands:
        {{DemoCommand.Usage}}
          info                         Prints the engine configuration (GEMM backend, SIMD level, threads).
        {{DataCommands.Usage}}
        {{TrainCommands.Usage}}
        {{GenerateCommand.Usage}}
        {{EvalCommands.Usage}}

        Environment:
          LONGSHOT_GEMM=builtin|openblas   choose the matrix-multiply backend (default: OpenBLAS when installed)
          LONGSHOT_THREADS=N               worker threads for kernels (default: all cores)
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        try
        {
            if (args.Length == 0 || args[0] is "-h" or "--help" or "help") { Console.WriteLine(Usage); return 0; }
            using var cts = new CancellationTokenSource();
            Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
            return args[0] switch
            {
                "info" => Info(),
                "demo" => await Task.Run(() => DemoCommand.Run(args[1..], cts.Token)),
                "data" => await Task.Run(() => DataCommands.Run(args[1..], cts.Token)),
                "train" => await Task.Run(() => TrainCommands.Train(args[1..], cts.Token)),
                "eval" => await Task.Run(() => EvalCommands.Eval(args[1..], cts.Token)),
                "generate" => await Task.Run(() => GenerateCommand.Run(args[1..], cts.Token)),
                _ => Fail($"unknown command '{args[0]}'.\n\n{Usage}"),
            };
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("cancelled.");
            return 130;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or IOException or InvalidOperationException or KeyNotFoundException
            or ArithmeticException or Longshot.Video.Formats.MediaFormatException or Longshot.Video.Formats.FFmpegMissingException
            or Longshot.Video.Store.DatasetStoreException or Longshot.Tensors.IO.SafeTensorsFormatException or Longshot.Tensors.Nn.StateDictMismatchException or InvalidDataException)
        {
            return Fail(e.Message);
        }
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"longshot: {message}");
        return 2;
    }

    private static int Info()
    {
        Console.WriteLine($"GEMM backend : {Gemm.Backend}");
        Console.WriteLine($"SIMD level   : {Gemm.SimdLevel}");
        Console.WriteLine($"threads      : {Threads.Count}");
        Console.WriteLine($"OpenBLAS     : {(Gemm.OpenBlasAvailable ? Gemm.OpenBlasPath : "not installed (built-in GEMM used)")}");
        return 0;
    }
}
