using Longshot.Diffusion.Vae;
using Longshot.Tensors;

namespace Longshot.Bench;

/// <summary>Encode + decode throughput of the default (Toonworld) VAE, image and temporal, at 64x64.</summary>
internal static class VaeBench
{
    public static void Run()
    {
        foreach (var temporal in new[] { false, true })
        {
            var vae = AutoencoderKL.Create(new AutoencoderKLConfig { Temporal = temporal }, 1);
            var codec = new ChunkedVideoCodec(vae, 8, 4);
            var video = Tensor.Rand(new Rng(2), -1, 1, 64, 3, 64, 64);
            string name = temporal ? "T-KLVAE" : "KLVAE";
            double enc = Report.Time(() => codec.Encode((s, n) => video.Narrow(0, s, n).Contiguous(), 64), warmup: 1,
                minSeconds: 3);
            var z = codec.Encode((s, n) => video.Narrow(0, s, n).Contiguous(), 64);
            double dec = Report.Time(() => { foreach (var _ in codec.Decode(z)) { } }, warmup: 1, minSeconds: 3);
            // Tiles of 8 at stride 4 code most frames twice; report frames of video per second.
            Report.Emit("vae", $"{name} encode 64 frames 64x64 (tiles 8/4)", "builtin", 64 / enc, "frames/s");
            Report.Emit("vae", $"{name} decode 64 frames 64x64 (tiles 8/4)", "builtin", 64 / dec, "frames/s");
            // The tiling generation decodes with (each frame decoded 1.33 times instead of twice).
            var gen = ChunkedVideoCodec.ForGeneration(vae);
            double decGen = Report.Time(() => { foreach (var _ in gen.Decode(z)) { } }, warmup: 1, minSeconds: 3);
            Report.Emit("vae", $"{name} decode 64 frames 64x64 (tiles {gen.Tile}/{gen.Stride})", "builtin",
                64 / decGen, "frames/s");
        }
    }
}
