using System.Text.Json.Serialization;
using System.Text.Json;
using Longshot.Tensors.IO;
using Longshot.Tensors;
using Longshot.Video.Store;

namespace Longshot.Diffusion.Text;

/// <summary>
/// A word-level tokenizer built from training captions (lower-case words and punctuation, as
/// <see cref="Words.Of"/> splits them). Id 0 pads, 1 starts a prompt, 2 ends it, 3 stands for any unknown word.
/// Saved with the model as tokenizer.json.
/// </summary>
public sealed class WordTokenizer
{
    public const int Pad = 0, Bos = 1, Eos = 2, Unk = 3;
    private static readonly string[] Specials = { "[PAD]", "[BOS]", "[EOS]", "[UNK]" };

    private readonly Dictionary<string, int> _ids;

    public IReadOnlyList<string> Vocabulary { get; }

    /// <summary>Tokens per prompt (including BOS and EOS); longer prompts are cut, shorter ones padded.</summary>
    public int MaxLength { get; }

    public int VocabularySize => Vocabulary.Count;

    private WordTokenizer(IReadOnlyList<string> vocab, int maxLength)
    {
        if (maxLength < 3) throw new LongshotException("tokenizer: max length must be >= 3.");
        Vocabulary = vocab; MaxLength = maxLength;
        _ids = vocab.Select((w, i) => (w, i)).ToDictionary(p => p.w, p => p.i);
    }

    /// <summary>Builds the vocabulary from captions: words seen at least <paramref name="minCount"/> times,
    /// sorted.</summary>
    public static WordTokenizer Build(IEnumerable<string> captions, int maxLength = 48, int minCount = 1)
    {
        var counts = new Dictionary<string, int>();
        foreach (var c in captions)
            foreach (var w in Words.Of(c)) counts[w] = counts.GetValueOrDefault(w) + 1;
        var words = counts.Where(kv => kv.Value >= minCount).Select(kv => kv.Key)
            .OrderBy(w => w, StringComparer.Ordinal);
        return new WordTokenizer(Specials.Concat(words).ToList(), maxLength);
    }

    /// <summary>Token ids of one prompt, exactly <see cref="MaxLength"/> long.</summary>
    public int[] Encode(string prompt)
    {
        var ids = new int[MaxLength];
        ids[0] = Bos;
        int n = 1;
        foreach (var w in Words.Of(prompt))
        {
            if (n >= MaxLength - 1) break;
            ids[n++] = _ids.GetValueOrDefault(w, Unk);
        }
        ids[n] = Eos;
        return ids;
    }

    /// <summary>Words for ids (padding dropped).</summary>
    public string Decode(IEnumerable<int> ids) =>
        string.Join(" ", ids.Where(i => i != Pad && i != Bos && i != Eos)
        .Select(i => i < Vocabulary.Count ? Vocabulary[i] : Specials[Unk]));

    private sealed class Saved
    {
        [JsonRequired] public int MaxLength { get; init; }
        [JsonRequired] public List<string> Vocabulary { get; init; } = new();
    }

    public void Save(string path) => AtomicFile.WriteAllText(path,
        JsonSerializer.Serialize(new Saved { MaxLength = MaxLength, Vocabulary = Vocabulary.ToList() }));

    public static WordTokenizer Load(string path)
    {
        var s = StrictJson.Load<Saved>(path, "tokenizer file");
        if (s.Vocabulary.Count < Specials.Length || !s.Vocabulary.Take(Specials.Length).SequenceEqual(Specials))
            throw new LongshotException($"{path}: not a valid tokenizer file (the special tokens are missing).");
        if (s.MaxLength < 2 || s.MaxLength > 65536)
            throw new LongshotException($"{path}: not a valid tokenizer file (MaxLength must be between 2 and 65536).");
        if (s.Vocabulary.Any(w => w == null) || s.Vocabulary.Distinct().Count() != s.Vocabulary.Count)
            throw new LongshotException($"{path}: not a valid tokenizer file (null or repeated words).");
        return new WordTokenizer(s.Vocabulary, s.MaxLength);
    }
}
