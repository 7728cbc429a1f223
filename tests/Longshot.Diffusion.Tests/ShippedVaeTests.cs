using Longshot.Diffusion.Vae;
using Longshot.Tensors;
using Longshot.Video.Imaging;
using Longshot.Video.Toonworld;
using Xunit;

namespace Longshot.Diffusion.Tests;

/// <summary>The T-KLVAE checkpoint shipped in models/toonworld-vae loads and reconstructs unseen Toonworld
/// video.</summary>
public class ShippedVaeTests
{
    private static string ModelDir => Path.Combine(AppContext.BaseDirectory, "models", "toonworld-vae");

    [Fact]
    public void ReconstructsAnUnseenEpisode()
    {
        var vae = AutoencoderKL.Load(ModelDir);
        Assert.True(vae.Config.Temporal);
        // Seed 99 was never used for training (the recipe uses seed 1).
        var ep = new ToonworldEpisode(new ToonworldSettings { Frames = 400, Seed = 99 }, 0);
        double worst = double.MaxValue;
        foreach (int start in new[] { 0, 200, 392 })
        {
            var clip = ep.RenderRange(start, 8);
            var x = Ops.Stack(clip.Select(f => f.Frame.ToTensor()).ToList(), 0);
            Tensor y;
            using (Tensor.NoGrad()) y = vae.Decode(vae.Encode(x, frames: 8).Mean, frames: 8);
            for (int i = 0; i < 8; i++)
                worst = Math.Min(worst, Frame.Psnr(clip[i].Frame, Frame.FromTensor(y.Narrow(0, i, 1).Squeeze(0))));
        }
        Assert.True(worst > 25, $"worst frame PSNR {worst:F2} dB");
    }
}
