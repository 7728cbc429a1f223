namespace Longshot.Studio;

/// <summary>
/// The time left of a job from the pace of its units. The first unit (the global keyframes alone, with their own
/// step count, or the first denoising step with its warm-up) says little about the rest, so the estimate starts at
/// the second report and measures only what finished after the first: the remaining units at that pace.
/// </summary>
public sealed class UnitPace(Func<DateTime>? clock = null)
{
    private readonly Func<DateTime> _now = clock ?? (() => DateTime.UtcNow);
    private DateTime? _firstAt;
    private int _firstDone;

    /// <summary>Records that <paramref name="done"/> of <paramref name="total"/> units are done; returns the seconds
    /// left (rounded), or null while there is no pace to go by.</summary>
    public double? Report(int done, int total)
    {
        var now = _now();
        if (_firstAt is not { } first)
        {
            _firstAt = now;
            _firstDone = done;
            return null;
        }
        int since = done - _firstDone;
        if (since <= 0) return null;
        double perUnit = (now - first).TotalSeconds / since;
        return Math.Round(Math.Max(0, total - done) * perUnit);
    }
}
