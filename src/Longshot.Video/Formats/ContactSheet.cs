using Longshot.Tensors;
using Longshot.Video.Imaging;

namespace Longshot.Video.Formats;

/// <summary>
/// A grid of frames, each labelled with its frame number (like NUWA-XL's Figure 4), saved as PNG.
/// As a writer it keeps only the frames it will show, so memory is bounded by the grid, not the video.
/// </summary>
public sealed class ContactSheet : IVideoWriter
{
    private readonly string _path;
    private readonly Func<int, bool> _keep;
    private readonly int _columns;
    private readonly List<(int Index, Frame Frame)> _tiles = new();
    private readonly int _maxTiles;

    public int FrameCount { get; private set; }

    /// <param name="every">Keep frames 0, every, 2*every, ...</param>
    /// <param name="maxTiles">Upper bound on tiles kept (later frames are dropped beyond it).</param>
    public ContactSheet(string path, int every = 1, int columns = 8, int maxTiles = 256)
        : this(path, i => i % every == 0, columns, maxTiles)
    {
        if (every < 1) throw new LongshotException("ContactSheet: every must be >= 1.");
    }

    /// <summary>A sheet of the frames whose indices are in <paramref name="indices"/>.</summary>
    public ContactSheet(string path, IReadOnlySet<int> indices, int columns = 8) : this(path, indices.Contains,
        columns, Math.Max(1, indices.Count)) { }

    private ContactSheet(string path, Func<int, bool> keep, int columns, int maxTiles)
    {
        if (columns < 1) throw new LongshotException("ContactSheet: columns must be >= 1.");
        _path = path; _keep = keep; _columns = columns; _maxTiles = maxTiles;
    }

    public void Write(Frame frame)
    {
        if (_keep(FrameCount) && _tiles.Count < _maxTiles) _tiles.Add((FrameCount, frame.Clone()));
        FrameCount++;
    }

    public void Complete() => Png.Save(_path, Render(_tiles, _columns));

    /// <summary>Lays out labelled tiles: a caption strip above each frame shows its number.</summary>
    public static Frame Render(IReadOnlyList<(int Index, Frame Frame)> tiles, int columns)
    {
        if (tiles.Count == 0) throw new InvalidOperationException("ContactSheet: no frames to show.");
        int w = tiles[0].Frame.Width, h = tiles[0].Frame.Height;
        int scale = w >= 128 ? 2 : 1, label = 5 * scale + 4, pad = 2;
        int cols = Math.Min(columns, tiles.Count), rows = (tiles.Count + cols - 1) / cols;
        var sheet = new Frame(cols * (w + pad) + pad, rows * (h + label + pad) + pad);
        var canvas = new Canvas(sheet);
        canvas.Clear(new Rgb(24, 24, 28));
        for (int i = 0; i < tiles.Count; i++)
        {
            int x = pad + (i % cols) * (w + pad), y = pad + (i / cols) * (h + label + pad);
            canvas.Text(x + 1, y + 2, $"#{tiles[i].Index}", new Rgb(235, 235, 235), scale);
            canvas.Blit(tiles[i].Frame, x, y + label);
        }
        return sheet;
    }

    public void Dispose() => _tiles.Clear();
}
