using System.Runtime.InteropServices;

namespace Longshot.Distributed;

/// <summary>
/// The MPI C API of Open MPI's libmpi.so.40, bound at run time through function pointers. Open MPI's predefined
/// handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ...) are the addresses of exported globals (ompi_mpi_comm_world,
/// ...), so they are looked up as symbols too. Nothing here is touched unless the process runs under mpirun.
/// </summary>
internal static unsafe class MpiLibrary
{
    private static readonly string[] Candidates = { "libmpi.so.40", "libmpi.so" };

    public static readonly nint Handle = Load();

    public static readonly nint CommWorld = Symbol("ompi_mpi_comm_world");
    public static readonly nint Float = Symbol("ompi_mpi_float");
    public static readonly nint Byte = Symbol("ompi_mpi_byte");
    public static readonly nint Double = Symbol("ompi_mpi_double");
    public static readonly nint OpSum = Symbol("ompi_mpi_op_sum");
    public static readonly nint ErrorsReturn = Symbol("ompi_mpi_errors_return");

    public const int AnySource = -1, ThreadSerialized = 2, MaxErrorString = 256;

    /// <summary>MPI_Status of Open MPI: three public ints, then two private fields (24 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Status
    {
        public int Source, Tag, Error, Cancelled;
        public nuint Count;
    }

    public static readonly delegate* unmanaged<int*, byte***, int, int*, int> InitThread =
        (delegate* unmanaged<int*, byte***, int, int*, int>)Fn("MPI_Init_thread");
    public static readonly delegate* unmanaged<int*, int> Initialized =
        (delegate* unmanaged<int*, int>)Fn("MPI_Initialized");
    public static readonly delegate* unmanaged<int*, int> Finalized =
        (delegate* unmanaged<int*, int>)Fn("MPI_Finalized");
    public static readonly delegate* unmanaged<int> Finalize = (delegate* unmanaged<int>)Fn("MPI_Finalize");
    public static readonly delegate* unmanaged<nint, int*, int> CommRank =
        (delegate* unmanaged<nint, int*, int>)Fn("MPI_Comm_rank");
    public static readonly delegate* unmanaged<nint, int*, int> CommSize =
        (delegate* unmanaged<nint, int*, int>)Fn("MPI_Comm_size");
    public static readonly delegate* unmanaged<nint, nint, int> CommSetErrhandler =
        (delegate* unmanaged<nint, nint, int>)Fn("MPI_Comm_set_errhandler");
    public static readonly delegate* unmanaged<int, byte*, int*, int> ErrorString =
        (delegate* unmanaged<int, byte*, int*, int>)Fn("MPI_Error_string");
    public static readonly delegate* unmanaged<nint, int, int> AbortFn =
        (delegate* unmanaged<nint, int, int>)Fn("MPI_Abort");
    public static readonly delegate* unmanaged<void*, int, nint, int, int, nint, int> Send =
        (delegate* unmanaged<void*, int, nint, int, int, nint, int>)Fn("MPI_Send");
    public static readonly delegate* unmanaged<void*, int, nint, int, int, nint, Status*, int> Recv =
        (delegate* unmanaged<void*, int, nint, int, int, nint, Status*, int>)Fn("MPI_Recv");
    public static readonly delegate* unmanaged<int, int, nint, int*, Status*, int> Iprobe =
        (delegate* unmanaged<int, int, nint, int*, Status*, int>)Fn("MPI_Iprobe");
    public static readonly delegate* unmanaged<Status*, nint, int*, int> GetCount =
        (delegate* unmanaged<Status*, nint, int*, int>)Fn("MPI_Get_count");
    public static readonly
        delegate* unmanaged<void*, int, nint, int, int, void*, int, nint, int, int, nint, Status*, int> Sendrecv =
            (delegate* unmanaged<void*, int, nint, int, int, void*, int, nint, int, int, nint, Status*, int>)
            Fn("MPI_Sendrecv");
    public static readonly delegate* unmanaged<void*, int, nint, int, nint, int> Bcast =
        (delegate* unmanaged<void*, int, nint, int, nint, int>)Fn("MPI_Bcast");
    public static readonly delegate* unmanaged<void*, int, nint, void*, int, nint, nint, int> Allgather =
        (delegate* unmanaged<void*, int, nint, void*, int, nint, nint, int>)Fn("MPI_Allgather");
    public static readonly delegate* unmanaged<void*, int, nint, void*, int*, int*, nint, nint, int> Allgatherv =
        (delegate* unmanaged<void*, int, nint, void*, int*, int*, nint, nint, int>)Fn("MPI_Allgatherv");
    public static readonly delegate* unmanaged<void*, void*, int, nint, nint, nint, int> Allreduce =
        (delegate* unmanaged<void*, void*, int, nint, nint, nint, int>)Fn("MPI_Allreduce");
    public static readonly delegate* unmanaged<void*, void*, int*, nint, nint, nint, int> ReduceScatter =
        (delegate* unmanaged<void*, void*, int*, nint, nint, nint, int>)Fn("MPI_Reduce_scatter");
    public static readonly delegate* unmanaged<nint, int> Barrier = (delegate* unmanaged<nint, int>)Fn("MPI_Barrier");

    /// <summary>MPI_IN_PLACE: the receive buffer is also the send buffer.</summary>
    public static readonly void* InPlace = (void*)1;

    private static nint Load()
    {
        foreach (var name in Candidates)
            if (NativeLibrary.TryLoad(name, out var h)) return h;
        throw new MpiException("this process runs under mpirun, but Open MPI's libmpi.so.40 could not be loaded " +
                               "(apt-get install openmpi-bin).");
    }

    private static nint Symbol(string name) => NativeLibrary.TryGetExport(Handle, name, out var p) ? p
        : throw new MpiException($"libmpi has no symbol {name}: Longshot needs Open MPI 4 or later.");

    private static nint Fn(string name) => Symbol(name);

    /// <summary>Throws <see cref="MpiException"/> with MPI's error string when <paramref name="code"/> is not
    /// MPI_SUCCESS.</summary>
    public static void Check(int code, string call)
    {
        if (code == 0) return;
        var buffer = stackalloc byte[MaxErrorString + 1];
        int length = 0;
        string text = ErrorString(code, buffer, &length) == 0 ? Marshal.PtrToStringUTF8((nint)buffer, length)
            : $"error {code}";
        throw new MpiException($"{call} failed: {text}");
    }
}
