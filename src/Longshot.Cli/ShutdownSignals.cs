using System.Runtime.InteropServices;

namespace Longshot.Cli;

/// <summary>
/// SIGINT (Ctrl-C) and SIGTERM (docker stop, systemd, Slurm) both cancel the running command, which stops at its
/// next check, keeps what it finished (units, checkpoints) and removes partial outputs. A second signal ends the
/// process at once. A process started with SIGINT ignored (a background job of a non-interactive shell) keeps
/// ignoring it, as Unix programs do; SIGTERM still stops it cleanly.
/// </summary>
internal sealed class ShutdownSignals : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly List<PosixSignalRegistration> _registrations = new();

    /// <summary>The signal that asked to stop, if any.</summary>
    public PosixSignal? Received { get; private set; }

    /// <summary>Cancelled by the first SIGINT or SIGTERM.</summary>
    public CancellationToken Token => _cts.Token;

    public ShutdownSignals()
    {
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
            _registrations.Add(PosixSignalRegistration.Create(signal, OnSignal));
    }

    private void OnSignal(PosixSignalContext context)
    {
        if (Received != null) return; // the second signal: let the default action end the process
        Received = context.Signal;
        context.Cancel = true;
        _cts.Cancel();
    }

    /// <summary>The exit code of a command stopped by a signal: 128 + its number (130 for SIGINT, 143 for
    /// SIGTERM).</summary>
    public int ExitCode => Received == PosixSignal.SIGTERM ? 143 : 130;

    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
        _cts.Dispose();
    }
}
