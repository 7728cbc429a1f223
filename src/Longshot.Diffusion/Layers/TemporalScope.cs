namespace Longshot.Diffusion.Layers;

/// <summary>
/// What the temporal layers of one model call see beyond full attention over the call's own frames: a local window
/// (each frame attends to frames at most <paramref name="Window"/> apart; 0 = all), and, for a clip of a longer video
/// sampled clip by clip (Video-Infinity), the exchange that brings in the neighbouring clips' frames and the video's
/// global frames at every temporal layer.
/// </summary>
public sealed record TemporalScope(int Window = 0, ITemporalExchange? Exchange = null)
{
    /// <summary>True when the call runs exactly as without a scope (full attention, no exchange).</summary>
    public bool IsPlain => Window == 0 && Exchange == null;
}
