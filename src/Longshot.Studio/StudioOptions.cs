namespace Longshot.Studio;

/// <summary>Settings of `longshot serve`.</summary>
public sealed record StudioOptions
{
    /// <summary>Folder of the job history (studio.db), the run folders and the outputs; everything clients name lives
    /// under it.</summary>
    public required string Workspace { get; init; }

    /// <summary>Where Kestrel listens; localhost only unless asked.</summary>
    public string Urls { get; init; } = "http://127.0.0.1:5000";

    /// <summary>The longest video a job may ask for.</summary>
    public int MaxFrames { get; init; } = 4096;

    /// <summary>Jobs that may wait in the queue at once.</summary>
    public int MaxQueuedJobs { get; init; } = 16;

    /// <summary>Whether <see cref="Urls"/> may reach beyond this machine; without it such an address is
    /// refused.</summary>
    public bool AllowRemote { get; init; }

    /// <summary>Host names the studio answers to besides loopback names and the hosts in <see cref="Urls"/> (e.g.
    /// the machine's name on the network when it listens on 0.0.0.0).</summary>
    public IReadOnlyList<string> AllowedHosts { get; init; } = Array.Empty<string>();

    /// <summary>When set, every request must carry this token (the page gets it once from <c>/?token=...</c> and
    /// keeps it in a cookie).</summary>
    public string? AccessToken { get; init; }
}
