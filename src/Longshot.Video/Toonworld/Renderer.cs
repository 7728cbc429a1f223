using Longshot.Video.Imaging;

namespace Longshot.Video.Toonworld;

/// <summary>Ground truth for one character in one frame. Box is [x0, y0, x1, y1) in pixels, clipped to the
/// frame.</summary>
public sealed record CharacterAnnotation(int Id, string Name, int[] Box, string Action, string Shirt, string Accessory,
    string Body, bool Visible);

/// <summary>Ground truth for one frame: shot, location and every character in the shot.</summary>
public sealed record FrameAnnotation(int Frame, int Shot, int Location, string Place, string TimeOfDay, string Framing,
    IReadOnlyList<CharacterAnnotation> Characters);

/// <summary>Draws a frame of an episode from its script, and reports exactly what it drew.</summary>
public static class Renderer
{
    private const float CharacterHeight = 1.6f; // stage units

    public static (Frame Frame, FrameAnnotation Annotation) Render(EpisodeScript script, int frame)
    {
        var s = script.Settings;
        var shot = script.ShotAt(frame);
        var loc = script.Locations[shot.LocationId];
        var f = new Frame(s.Width, s.Height);
        var c = new Canvas(f);
        float vw = EpisodeScript.ViewWidth(shot.Framing), cam = shot.CameraX(frame), ppu = s.Width / vw,
            left = cam - vw / 2;
        float horizon = s.Height * 0.62f;
        DrawBackground(c, loc, horizon, cam, ppu, left, s);

        var annotations = new List<CharacterAnnotation>();
        foreach (var p in shot.Performers.OrderBy(p => p.Lane))
        {
            var ch = script.Cast[p.CharacterId];
            var seg = p.SegmentAt(frame);
            float u = seg.End - seg.Start <= 1 ? 1 : (frame - seg.Start) / (float)(seg.End - seg.Start - 1);
            float x = seg.X0 + (seg.X1 - seg.X0) * u;
            float phase = (frame - seg.Start) / (float)s.Fps;
            float footY = s.Height * (0.74f + 0.12f * p.Lane);
            var box = DrawCharacter(c, ch, seg, (x - left) * ppu, footY,
                CharacterHeight * ppu * (0.9f + 0.15f * p.Lane), phase);
            annotations.Add(Annotate(ch, seg.Action, box, s.Width, s.Height));
        }
        var ann = new FrameAnnotation(frame, shot.Id, loc.Id, loc.Name, loc.TimeOfDay, shot.Framing.ToString()
            .ToLowerInvariant(),
            annotations.OrderBy(a => a.Id).ToList());
        return (f, ann);
    }

    private static CharacterAnnotation Annotate(Character ch, CharacterAction action,
        (float X0, float Y0, float X1, float Y1) b, int w, int h)
    {
        float visW = Math.Max(0, Math.Min(b.X1, w) - Math.Max(b.X0, 0));
        bool visible = visW >= 0.5f * (b.X1 - b.X0) && b.Y1 > 0 && b.Y0 < h;
        var box = new[]
        {
            Math.Clamp((int)MathF.Floor(b.X0), 0, w), Math.Clamp((int)MathF.Floor(b.Y0), 0, h),
            Math.Clamp((int)MathF.Ceiling(b.X1), 0, w), Math.Clamp((int)MathF.Ceiling(b.Y1), 0, h),
        };
        return new CharacterAnnotation(ch.Id, ch.Name, box, Palette.ActionId(action), ch.Shirt.Name,
            ch.Accessory == Accessory.None ? "none" : Palette.AccessoryWord(ch.Accessory), ch.Body.ToString()
                .ToLowerInvariant(), visible);
    }

    private static void DrawBackground(Canvas c, Location loc, float horizon, float cam, float ppu, float left,
        ToonworldSettings s)
    {
        int w = s.Width, h = s.Height;
        c.VerticalGradient(0, (int)MathF.Ceiling(horizon), loc.SkyTop, loc.SkyBottom);
        float r = h * 0.07f;
        switch (loc.TimeOfDay)
        {
            case "morning": c.Ellipse(w * 0.18f, h * 0.3f, r, r, new Rgb(255, 235, 150)); break;
            case "noon": c.Ellipse(w * 0.5f, h * 0.12f, r, r, new Rgb(255, 245, 190)); break;
            case "dusk": c.Ellipse(w * 0.8f, h * 0.45f, r * 1.2f, r * 1.2f, new Rgb(255, 170, 90)); break;
            default:
                c.Ellipse(w * 0.75f, h * 0.15f, r, r, new Rgb(235, 235, 210));
                for (int i = 0; i < 6; i++) c.Ellipse((i * 37 % 100) / 100f * w, (i * 53 % 40) / 100f * h + 2, 0.6f,
                    0.6f, new Rgb(220, 220, 230));
                break;
        }
        // Distant hills move at 40% of the camera's speed.
        for (int i = 0; i < 4; i++)
        {
            float hx = (i * 4.2f - cam * 0.4f) * ppu * 0.5f + w * 0.5f;
            c.Ellipse(hx, horizon, ppu * 2.2f, h * 0.16f, loc.Hills);
        }
        c.Rect(0, horizon, w, h, loc.Ground);
        float propY = horizon + (h - horizon) * 0.2f;
        foreach (var px in loc.PropXs)
        {
            float x = (px - left) * ppu;
            if (x < -ppu * 2 || x > w + ppu * 2) continue;
            DrawProp(c, loc.Prop, x, propY, ppu);
        }
    }

    private static void DrawProp(Canvas c, string prop, float x, float y, float u)
    {
        switch (prop)
        {
            case "rock":
                c.Ellipse(x, y - 0.15f * u, 0.45f * u, 0.25f * u, new Rgb(120, 110, 100));
                break;
            case "tree":
                c.Rect(x - 0.08f * u, y - 0.9f * u, x + 0.08f * u, y, new Rgb(100, 70, 40));
                c.Ellipse(x, y - 1.1f * u, 0.45f * u, 0.4f * u, new Rgb(50, 120, 45));
                break;
            case "palm":
                c.Line(x, y, x + 0.2f * u, y - 1.3f * u, Math.Max(1, 0.12f * u), new Rgb(140, 100, 60));
                c.Triangle(x + 0.2f * u, y - 1.4f * u, x - 0.5f * u, y - 1.1f * u, x + 0.25f * u, y - 1.2f * u,
                    new Rgb(40, 130, 60));
                c.Triangle(x + 0.2f * u, y - 1.4f * u, x + 0.9f * u, y - 1.1f * u, x + 0.15f * u, y - 1.2f * u,
                    new Rgb(40, 130, 60));
                break;
            case "house":
                c.Rect(x - 0.5f * u, y - 0.8f * u, x + 0.5f * u, y, new Rgb(200, 185, 160));
                c.Triangle(x - 0.6f * u, y - 0.8f * u, x + 0.6f * u, y - 0.8f * u, x, y - 1.3f * u,
                    new Rgb(150, 75, 65));
                c.Rect(x - 0.12f * u, y - 0.4f * u, x + 0.12f * u, y, new Rgb(90, 60, 40));
                break;
            case "pine":
                c.Rect(x - 0.06f * u, y - 0.3f * u, x + 0.06f * u, y, new Rgb(90, 60, 35));
                c.Triangle(x - 0.4f * u, y - 0.3f * u, x + 0.4f * u, y - 0.3f * u, x, y - 1.4f * u,
                    new Rgb(30, 80, 40));
                break;
            default: // cactus
                c.Rect(x - 0.1f * u, y - 0.9f * u, x + 0.1f * u, y, new Rgb(70, 140, 70), 0.1f * u);
                c.Rect(x + 0.1f * u, y - 0.6f * u, x + 0.3f * u, y - 0.5f * u, new Rgb(70, 140, 70));
                c.Rect(x + 0.2f * u, y - 0.85f * u, x + 0.3f * u, y - 0.5f * u, new Rgb(70, 140, 70), 0.05f * u);
                break;
        }
    }

    /// <summary>Draws one character with its feet at (fx, fy) and height h pixels; returns its bounding box.</summary>
    private static (float, float, float, float) DrawCharacter(Canvas c, Character ch, ActionSegment seg, float fx,
        float fy, float h, float phase)
    {
        var a = seg.Action;
        bool walking = a is CharacterAction.WalkLeft or CharacterAction.WalkRight
            or CharacterAction.Enter or CharacterAction.Exit;
        float facing = a == CharacterAction.WalkLeft || (walking && seg.X1 < seg.X0) ? -1 : 1;
        if (a == CharacterAction.Jump) fy -= MathF.Abs(MathF.Sin(phase * MathF.PI / 0.45f)) * 0.35f * h;
        bool sit = a == CharacterAction.Sit;
        float hipY = sit ? fy - 0.14f * h : fy - 0.32f * h;
        float limb = Math.Max(1f, 0.07f * h);
        var dark = new Rgb(40, 35, 45);
        float x0 = fx, x1 = fx, y0 = fy, y1 = fy;
        void Extend(float ax, float ay, float bx,
            float by) { x0 = Math.Min(x0, Math.Min(ax, bx)); x1 = Math.Max(x1, Math.Max(ax, bx)); y0 = Math.Min(y0,
            Math.Min(ay, by)); y1 = Math.Max(y1, Math.Max(ay, by)); }

        // Legs.
        float swing = walking ? MathF.Sin(phase * MathF.PI * 2 * 1.8f) * 0.12f * h : 0;
        for (int side = -1; side <= 1; side += 2)
        {
            float hx = fx + side * 0.08f * h;
            float footX = sit ? hx + facing * 0.28f * h : hx + side * swing;
            float footY = sit ? hipY + 0.04f * h : fy;
            c.Line(hx, hipY, footX, footY, limb, dark);
            Extend(hx - limb / 2, hipY, footX + limb / 2, footY + limb / 2);
        }
        // Body in the shirt colour.
        float bw, top;
        switch (ch.Body)
        {
            case BodyShape.Round:
                bw = 0.22f * h; top = hipY - 0.42f * h;
                c.Ellipse(fx, hipY - 0.2f * h, bw, 0.22f * h, ch.Shirt.Rgb);
                break;
            case BodyShape.Tall:
                bw = 0.15f * h; top = hipY - 0.48f * h;
                c.Rect(fx - bw, top, fx + bw, hipY + 0.02f * h, ch.Shirt.Rgb, 0.05f * h);
                break;
            default:
                bw = 0.24f * h; top = hipY - 0.36f * h;
                c.Rect(fx - bw, top, fx + bw, hipY + 0.02f * h, ch.Shirt.Rgb, 0.04f * h);
                break;
        }
        Extend(fx - bw, top, fx + bw, hipY);
        // Arms: the right one waves.
        float shoulderY = top + 0.08f * h;
        for (int side = -1; side <= 1; side += 2)
        {
            float sx = fx + side * bw;
            float hx, hy;
            if (a == CharacterAction.Wave
                && side == 1) { hx = sx + 0.12f * h + 0.05f * h * MathF.Sin(phase * 12f); hy = shoulderY - 0.26f * h; }
            else { hx = sx + side * 0.08f * h; hy = shoulderY + 0.26f * h + (walking ? -side * swing * 0.5f : 0); }
            c.Line(sx, shoulderY, hx, hy, limb, ch.Skin);
            Extend(Math.Min(sx, hx) - limb / 2, Math.Min(shoulderY, hy) - limb / 2, Math.Max(sx, hx) + limb / 2,
                Math.Max(shoulderY, hy));
        }
        // Head, eyes, accessory.
        float hr = 0.15f * h, hcy = top - hr * 0.85f;
        c.Ellipse(fx, hcy, hr, hr, ch.Skin);
        Extend(fx - hr, hcy - hr, fx + hr, hcy + hr);
        float eye = Math.Max(0.5f, 0.03f * h);
        c.Ellipse(fx + facing * 0.05f * h - 0.04f * h, hcy - 0.02f * h, eye, eye, dark);
        c.Ellipse(fx + facing * 0.05f * h + 0.04f * h, hcy - 0.02f * h, eye, eye, dark);
        var ac = ch.AccessoryColor.Rgb;
        float headTop = hcy - hr;
        switch (ch.Accessory)
        {
            case Accessory.Cap:
                c.Ellipse(fx, headTop + 0.04f * h, hr, 0.07f * h, ac);
                c.Line(fx, headTop + 0.06f * h, fx + facing * hr * 1.5f, headTop + 0.06f * h, Math.Max(1, 0.04f * h),
                    ac);
                Extend(fx - hr * 1.5f, headTop - 0.03f * h, fx + hr * 1.5f, headTop);
                break;
            case Accessory.TopHat:
                c.Rect(fx - 0.1f * h, headTop - 0.2f * h, fx + 0.1f * h, headTop + 0.02f * h, ac);
                c.Rect(fx - 0.16f * h, headTop - 0.01f * h, fx + 0.16f * h, headTop + 0.03f * h, ac);
                Extend(fx - 0.16f * h, headTop - 0.2f * h, fx + 0.16f * h, headTop);
                break;
            case Accessory.Bow:
                c.Triangle(fx, headTop, fx - 0.12f * h, headTop - 0.07f * h, fx - 0.12f * h, headTop + 0.05f * h, ac);
                c.Triangle(fx, headTop, fx + 0.12f * h, headTop - 0.07f * h, fx + 0.12f * h, headTop + 0.05f * h, ac);
                Extend(fx - 0.12f * h, headTop - 0.07f * h, fx + 0.12f * h, headTop);
                break;
            case Accessory.Antenna:
                c.Line(fx, headTop, fx + 0.04f * h, headTop - 0.18f * h, Math.Max(1, 0.03f * h), ac);
                c.Ellipse(fx + 0.04f * h, headTop - 0.2f * h, 0.045f * h, 0.045f * h, ac);
                Extend(fx - 0.05f * h, headTop - 0.25f * h, fx + 0.09f * h, headTop);
                break;
            case Accessory.Crown:
                c.Rect(fx - 0.12f * h, headTop - 0.06f * h, fx + 0.12f * h, headTop + 0.02f * h, ac);
                for (int k = -1; k <= 1; k++) c.Triangle(fx + (k * 0.08f - 0.05f) * h, headTop - 0.05f * h,
                    fx + (k * 0.08f + 0.05f) * h, headTop - 0.05f * h, fx + k * 0.08f * h, headTop - 0.16f * h, ac);
                Extend(fx - 0.13f * h, headTop - 0.16f * h, fx + 0.13f * h, headTop);
                break;
        }
        return (x0, y0, x1, y1);
    }
}
