using Longshot.Distributed;
using Longshot.Tensors;
using Longshot.Tensors.Kernels;

namespace Longshot.Cli;

/// <summary>
/// The ranks this process belongs to: an Open MPI job under mpirun, else one process. Under mpirun each rank takes
/// its share of the machine's cores (unless LONGSHOT_THREADS says otherwise), and only rank 0 talks to the user.
/// </summary>
internal static class JobRanks
{
    private static ICommunicator? _current;

    /// <summary>This process's communicator (MPI is initialised on first use, by every rank).</summary>
    public static ICommunicator Current => _current ??= Start();

    /// <summary>True under mpirun with more than one rank.</summary>
    public static bool Distributed => Communicators.StartedByMpirun && Current.Size > 1;

    /// <summary>True for rank 0, or when not under mpirun: the rank that prints and writes outputs.</summary>
    public static bool IsLeader => !Communicators.StartedByMpirun
        || (_current?.Rank
            ?? (int.TryParse(Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_RANK"), out var r) ? r : 0)) == 0;

    private static ICommunicator Start()
    {
        var c = Communicators.FromEnvironment();
        if (c.LocalSize > 1 && Environment.GetEnvironmentVariable("LONGSHOT_THREADS") == null)
            Threads.Count = Math.Max(1, Environment.ProcessorCount / c.LocalSize);
        return c;
    }

    /// <summary>"rank 2 of 3" in a job of several ranks, else null.</summary>
    public static string? RankLabel => Distributed ? $"rank {Current.Rank} of {Current.Size}" : null;

    /// <summary>Refuses a command that does not run over ranks when started by mpirun with several.</summary>
    public static void RequireSingle(string command)
    {
        if (Distributed)
            throw new LongshotException($"{command} does not run over MPI ranks; run it without mpirun (or with -np " +
                $"1).");
    }

    /// <summary>Finalizes MPI at a normal exit.</summary>
    public static void Finish()
    {
        _current?.Dispose();
        _current = null;
    }
}
