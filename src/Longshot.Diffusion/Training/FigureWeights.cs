using Longshot.Tensors;
using Longshot.Video.Toonworld;

namespace Longshot.Diffusion.Training;

/// <summary>
/// Per-position loss weights that make the figures count: a latent cell touched by a visible character's box weighs
/// 1 + <c>weight</c>, every other cell 1. Figures cover a few percent of a wide shot, so an unweighted loss is spent on
/// the background (places and times are learned first) while the figures' colours, which the prompt names, stay
/// blurred.
/// </summary>
public static class FigureWeights
{
    /// <summary>The weight map [h, w] of one frame of <paramref name="pixelWidth"/> x <paramref name="pixelHeight"/>
    /// pixels over a latent grid of <paramref name="width"/> x <paramref name="height"/> cells.</summary>
    public static float[] Map(FrameAnnotation annotation, int pixelWidth, int pixelHeight, int width, int height,
        float weight)
    {
        var map = new float[width * height];
        Array.Fill(map, 1f);
        foreach (var c in annotation.Characters.Where(c => c.Visible))
        {
            // Box is [x0, y0, x1, y1) in pixels; a cell covers [i * pixels / cells, (i + 1) * pixels / cells).
            int x0 = c.Box[0] * width / pixelWidth, y0 = c.Box[1] * height / pixelHeight;
            int x1 = CeilDiv(c.Box[2] * width, pixelWidth), y1 = CeilDiv(c.Box[3] * height, pixelHeight);
            for (int y = Math.Max(0, y0); y < Math.Min(height, y1); y++)
                for (int x = Math.Max(0, x0); x < Math.Min(width, x1); x++)
                    map[y * width + x] = 1f + weight;
        }
        return map;
    }

    /// <summary>
    /// Loss weights [frames, 1, h, w] of a batch: each frame's figure map times its frame weight (0 for a given frame,
    /// whose loss is masked).
    /// </summary>
    public static Tensor Batch(IReadOnlyList<FrameAnnotation> annotations, IReadOnlyList<float> frameWeights,
        int pixelWidth, int pixelHeight, int width, int height, float weight)
    {
        var data = new float[annotations.Count * width * height];
        for (int f = 0; f < annotations.Count; f++)
        {
            var map = Map(annotations[f], pixelWidth, pixelHeight, width, height, weight);
            for (int i = 0; i < map.Length; i++) data[f * map.Length + i] = map[i] * frameWeights[f];
        }
        return Tensor.FromArray(data, annotations.Count, 1, height, width);
    }

    private static int CeilDiv(int a, int b) => (a + b - 1) / b;
}
