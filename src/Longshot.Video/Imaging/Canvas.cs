namespace Longshot.Video.Imaging;

/// <summary>
/// Anti-aliased 2-D drawing onto a <see cref="Frame"/>: every shape is a signed distance function and a pixel's
/// coverage is clamp(0.5 - distance, 0, 1), blended over what is there. Coordinates are in pixels, (0, 0) the
/// top-left corner of the top-left pixel.
/// </summary>
public sealed class Canvas(Frame frame)
{
    /// <summary>The frame drawn on.</summary>
    public Frame Frame { get; } = frame;

    /// <summary>Fills the whole frame.</summary>
    public void Clear(Rgb c)
    {
        var b = Frame.Rgb;
        for (int i = 0; i < b.Length; i += 3) { b[i] = c.R; b[i + 1] = c.G; b[i + 2] = c.B; }
    }

    /// <summary>A vertical gradient from <paramref name="top"/> to <paramref name="bottom"/> over rows [y0,
    /// y1).</summary>
    public void VerticalGradient(int y0, int y1, Rgb top, Rgb bottom)
    {
        y0 = Math.Max(0, y0); y1 = Math.Min(Frame.Height, y1);
        for (int y = y0; y < y1; y++)
        {
            var c = top.Lerp(bottom, y1 - y0 <= 1 ? 0 : (y - y0) / (float)(y1 - y0 - 1));
            int row = y * Frame.Width * 3;
            for (int x = 0; x < Frame.Width; x++) { int i = row + x
                * 3; Frame.Rgb[i] = c.R; Frame.Rgb[i + 1] = c.G; Frame.Rgb[i + 2] = c.B; }
        }
    }

    /// <summary>An axis-aligned rectangle with optionally rounded corners.</summary>
    public void Rect(float x0, float y0, float x1, float y1, Rgb c, float radius = 0, float opacity = 1)
    {
        float cx = (x0 + x1) / 2, cy = (y0 + y1) / 2, hx = (x1 - x0) / 2, hy = (y1 - y0) / 2;
        float r = Math.Min(radius, Math.Min(hx, hy));
        Fill(x0, y0, x1, y1, c, opacity, (px, py) =>
        {
            float qx = MathF.Abs(px - cx) - hx + r, qy = MathF.Abs(py - cy) - hy + r;
            float ox = MathF.Max(qx, 0), oy = MathF.Max(qy, 0);
            return MathF.Sqrt(ox * ox + oy * oy) + MathF.Min(MathF.Max(qx, qy), 0) - r;
        });
    }

    /// <summary>A filled ellipse (a circle when rx = ry).</summary>
    public void Ellipse(float cx, float cy, float rx, float ry, Rgb c, float opacity = 1)
    {
        if (rx <= 0 || ry <= 0) return;
        float k = MathF.Min(rx, ry);
        Fill(cx - rx, cy - ry, cx + rx, cy + ry, c, opacity, (px, py) =>
        {
            float dx = (px - cx) / rx, dy = (py - cy) / ry;
            // Distance approximation: (|p/r| - 1) scaled by the smaller radius.
            return (MathF.Sqrt(dx * dx + dy * dy) - 1f) * k;
        });
    }

    /// <summary>A thick line segment with round caps.</summary>
    public void Line(float x0, float y0, float x1, float y1, float width, Rgb c, float opacity = 1)
    {
        float h = width / 2, dx = x1 - x0, dy = y1 - y0, len2 = MathF.Max(dx * dx + dy * dy, 1e-6f);
        Fill(MathF.Min(x0, x1) - h, MathF.Min(y0, y1) - h, MathF.Max(x0, x1) + h, MathF.Max(y0, y1) + h, c, opacity,
            (px, py) =>
        {
            float t = Math.Clamp(((px - x0) * dx + (py - y0) * dy) / len2, 0, 1);
            float ex = px - (x0 + t * dx), ey = py - (y0 + t * dy);
            return MathF.Sqrt(ex * ex + ey * ey) - h;
        });
    }

    /// <summary>A filled triangle.</summary>
    public void Triangle(float ax, float ay, float bx, float by, float cx, float cy, Rgb c, float opacity = 1)
    {
        float sign = MathF.Sign((bx - ax) * (cy - ay) - (by - ay) * (cx - ax));
        if (sign == 0) return;
        Fill(MathF.Min(ax, MathF.Min(bx, cx)), MathF.Min(ay, MathF.Min(by, cy)), MathF.Max(ax, MathF.Max(bx, cx)),
            MathF.Max(ay, MathF.Max(by, cy)), c, opacity, (px, py) =>
        {
            float d0 = EdgeDistance(px, py, ax, ay, bx, by) * sign;
            float d1 = EdgeDistance(px, py, bx, by, cx, cy) * sign;
            float d2 = EdgeDistance(px, py, cx, cy, ax, ay) * sign;
            return -MathF.Min(d0, MathF.Min(d1, d2));
        });
    }

    private static float EdgeDistance(float px, float py, float ax, float ay, float bx, float by)
    {
        float ex = bx - ax, ey = by - ay, len = MathF.Sqrt(ex * ex + ey * ey);
        return len == 0 ? 0 : ((px - ax) * ey - (py - ay) * ex) / -len;
    }

    private delegate float Sdf(float px, float py);

    private void Fill(float x0, float y0, float x1, float y1, Rgb c, float opacity, Sdf sdf)
    {
        int ix0 = Math.Max(0, (int)MathF.Floor(x0 - 1)), iy0 = Math.Max(0, (int)MathF.Floor(y0 - 1));
        int ix1 = Math.Min(Frame.Width - 1, (int)MathF.Ceiling(x1 + 1)),
            iy1 = Math.Min(Frame.Height - 1, (int)MathF.Ceiling(y1 + 1));
        var b = Frame.Rgb; int w = Frame.Width;
        for (int y = iy0; y <= iy1; y++)
            for (int x = ix0; x <= ix1; x++)
            {
                float cov = Math.Clamp(0.5f - sdf(x + 0.5f, y + 0.5f), 0f, 1f) * opacity;
                if (cov <= 0) continue;
                int i = (y * w + x) * 3;
                if (cov >= 1) { b[i] = c.R; b[i + 1] = c.G; b[i + 2] = c.B; continue; }
                b[i] = (byte)(b[i] + (c.R - b[i]) * cov + 0.5f);
                b[i + 1] = (byte)(b[i + 1] + (c.G - b[i + 1]) * cov + 0.5f);
                b[i + 2] = (byte)(b[i + 2] + (c.B - b[i + 2]) * cov + 0.5f);
            }
    }

    /// <summary>Draws text in the built-in 3x5 pixel font, scaled by an integer factor.</summary>
    public void Text(int x, int y, string text, Rgb c, int scale = 1) => PixelFont.Draw(Frame, x, y, text, c, scale);

    /// <summary>Copies <paramref name="src"/> into this frame with its top-left at (x, y), clipped.</summary>
    public void Blit(Frame src, int x, int y)
    {
        for (int sy = 0; sy < src.Height; sy++)
        {
            int dy = y + sy;
            if (dy < 0 || dy >= Frame.Height) continue;
            int sx0 = Math.Max(0, -x), sx1 = Math.Min(src.Width, Frame.Width - x);
            if (sx1 <= sx0) continue;
            Array.Copy(src.Rgb, (sy * src.Width + sx0) * 3, Frame.Rgb, (dy * Frame.Width + x + sx0) * 3,
                (sx1 - sx0) * 3);
        }
    }
}
