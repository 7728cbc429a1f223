namespace Longshot.Distributed;

/// <summary>Chooses the communicator of this process.</summary>
public static class Communicators
{
    /// <summary>
    /// True when this process was started by Open MPI's mpirun (or srun with PMIx): it then has a rank in a job.
    /// </summary>
    public static bool StartedByMpirun =>
        Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") != null
        || Environment.GetEnvironmentVariable("PMIX_RANK") != null;

    /// <summary>
    /// The Open MPI communicator under mpirun (MPI_Init on first use), else a single-process one; every command
    /// works unchanged without MPI installed.
    /// </summary>
    public static ICommunicator FromEnvironment() =>
        StartedByMpirun ? MpiCommunicator.Initialize() : new SingleProcessCommunicator();
}
