namespace Longshot.Distributed;

/// <summary>An MPI call failed; the message carries MPI's own error string and the call that failed.</summary>
public sealed class MpiException(string message) : IOException(message);
