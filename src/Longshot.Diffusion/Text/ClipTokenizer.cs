using System.Globalization;
using System.Text;
using System.Text.Json;
using Longshot.Tensors;

namespace Longshot.Diffusion.Text;

/// <summary>A prompt's token ids as a CLIP text encoder reads them: start token, the text's tokens, end token, cut
/// to the encoder's length when longer (<paramref name="TextTokens"/> says how many the whole text has).</summary>
public sealed record ClipTokens(int[] Ids, int TextTokens, bool Truncated);

/// <summary>
/// CLIP's byte-level BPE tokenizer (OpenAI's simple_tokenizer; Hugging Face's CLIPTokenizer) from a tokenizer folder
/// in Hugging Face's layout: vocab.json, merges.txt and the special tokens of special_tokens_map.json and
/// tokenizer_config.json. A prompt is cleaned (<see cref="ClipTextCleanup"/>), split into words, numbers and runs of
/// other characters, each run's UTF-8 bytes written as characters and merged by rank, the last symbol of each word
/// marked "&lt;/w&gt;".
/// </summary>
public sealed class ClipTokenizer
{
    public const string StartToken = "<|startoftext|>", EndToken = "<|endoftext|>";

    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<(string, string), int> _ranks;
    private readonly Dictionary<string, string[]> _cache = new(StringComparer.Ordinal);
    private static readonly string[] ByteChars = ByteAlphabet();

    /// <summary>Id of the start token.</summary>
    public int StartId { get; }

    /// <summary>Id of the end token.</summary>
    public int EndId { get; }

    /// <summary>Id that pads a prompt to <see cref="MaxLength"/> (the end token for OpenAI's ViT-L tokenizer, "!"
    /// for the OpenCLIP ViT-H ones of the text-to-video models).</summary>
    public int PadId { get; }

    /// <summary>Id of a symbol the vocabulary lacks (never needed with CLIP's full byte alphabet).</summary>
    public int UnknownId { get; }

    /// <summary>Tokens the text encoder reads (tokenizer_config.json's model_max_length; 77).</summary>
    public int MaxLength { get; }

    /// <summary>Entries of the vocabulary.</summary>
    public int VocabularySize => _vocab.Count;

    private ClipTokenizer(Dictionary<string, int> vocab, Dictionary<(string, string), int> ranks, int maxLength,
        string pad, string unknown, string source)
    {
        _vocab = vocab;
        _ranks = ranks;
        MaxLength = maxLength;
        int Id(string token, string role) => vocab.TryGetValue(token, out int id) ? id
            : throw new InputFileException(source, $"{source}: the {role} token '{token}' is not in vocab.json.");
        StartId = Id(StartToken, "start");
        EndId = Id(EndToken, "end");
        PadId = Id(pad, "padding");
        UnknownId = Id(unknown, "unknown");
    }

    /// <summary>Loads a tokenizer folder (tokenizer/ of a diffusers pipeline); an <see cref="InputFileException"/>
    /// names a missing or unreadable file.</summary>
    public static ClipTokenizer Load(string folder)
    {
        if (!Directory.Exists(folder)) throw new InputFileException(folder, $"tokenizer folder not found: {folder}");
        string vocabPath = Path.Combine(folder, "vocab.json"), mergesPath = Path.Combine(folder, "merges.txt");
        foreach (var file in new[] { vocabPath, mergesPath })
            if (!File.Exists(file))
                throw new InputFileException(file, $"{folder} has no {Path.GetFileName(file)}: not a CLIP tokenizer " +
                    "folder (vocab.json and merges.txt).");
        Dictionary<string, int> vocab;
        try { vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(vocabPath))!; }
        catch (JsonException e)
        {
            throw new InputFileException(vocabPath, $"{vocabPath}: not a vocabulary ({e.Message})");
        }
        var ranks = new Dictionary<(string, string), int>();
        int lineNumber = 0;
        foreach (var line in File.ReadLines(mergesPath))
        {
            lineNumber++;
            if (line.Length == 0 || (lineNumber == 1 && line.StartsWith("#version", StringComparison.Ordinal)))
                continue;
            var parts = line.Split(' ');
            if (parts.Length != 2)
                throw new InputFileException(mergesPath, $"{mergesPath}:{lineNumber}: expected two symbols, got " +
                    $"'{(line.Length > 40 ? line[..40] + "..." : line)}'.");
            ranks.TryAdd((parts[0], parts[1]), ranks.Count);
        }
        var config = TokenizerConfig.Read(folder);
        return new ClipTokenizer(vocab, ranks, config.MaxLength, config.Pad ?? EndToken, config.Unknown ?? EndToken,
            folder);
    }

    /// <summary>The ids of a text's tokens, without start and end tokens and not cut (OpenAI's
    /// <c>SimpleTokenizer.encode</c>).</summary>
    public int[] Encode(string text)
    {
        var ids = new List<int>();
        foreach (var word in Words(ClipTextCleanup.Clean(text)))
        {
            if (word is StartToken or EndToken) { ids.Add(word == StartToken ? StartId : EndId); continue; }
            foreach (var symbol in Bpe(ByteLevel(word))) ids.Add(_vocab.GetValueOrDefault(symbol, UnknownId));
        }
        return ids.ToArray();
    }

    /// <summary>Start token, the text's tokens and end token, cut to <see cref="MaxLength"/> as the reference cuts
    /// (the first MaxLength - 2 text tokens, then the end token); not padded.</summary>
    public ClipTokens Tokenize(string text)
    {
        var body = Encode(text);
        int keep = Math.Min(body.Length, MaxLength - 2);
        var ids = new int[keep + 2];
        ids[0] = StartId;
        Array.Copy(body, 0, ids, 1, keep);
        ids[^1] = EndId;
        return new ClipTokens(ids, body.Length, keep < body.Length);
    }

    /// <summary><paramref name="ids"/> padded with <see cref="PadId"/> to <see cref="MaxLength"/> (diffusers'
    /// padding="max_length").</summary>
    public int[] Pad(int[] ids) =>
        ids.Length >= MaxLength ? ids[..MaxLength]
            : ids.Concat(Enumerable.Repeat(PadId, MaxLength - ids.Length)).ToArray();

    /// <summary>
    /// The pieces OpenAI's pattern finds in cleaned text, read by code point (so letters and digits beyond the Basic
    /// Multilingual Plane count as such): the two special tokens, the contractions 's 't 're 've 'm 'll 'd, runs of
    /// letters, single digits, runs of anything else but whitespace.
    /// </summary>
    internal static IEnumerable<string> Words(string text)
    {
        string[] fixedPieces = { StartToken, EndToken, "'s", "'t", "'re", "'ve", "'m", "'ll", "'d" };
        int i = 0;
        while (i < text.Length)
        {
            var piece = fixedPieces.FirstOrDefault(p =>
                string.Compare(text, i, p, 0, p.Length, StringComparison.OrdinalIgnoreCase) == 0);
            if (piece != null)
            {
                yield return text.Substring(i, piece.Length);
                i += piece.Length;
                continue;
            }
            var kind = KindAt(text, i, out int width);
            if (kind == CharKind.Space) { i += width; continue; }
            int start = i;
            i += width;
            if (kind == CharKind.Number) { yield return text[start..i]; continue; }
            while (i < text.Length && KindAt(text, i, out int w) == kind) i += w;
            yield return text[start..i];
        }
    }

    private enum CharKind { Space, Letter, Number, Other }

    private static CharKind KindAt(string text, int i, out int width)
    {
        if (Rune.DecodeFromUtf16(text.AsSpan(i), out var r, out width) != System.Buffers.OperationStatus.Done)
        {
            width = 1;
            return CharKind.Other;
        }
        if (r.IsBmp && ClipTextCleanup.IsSpace((char)r.Value)) return CharKind.Space;
        return Rune.GetUnicodeCategory(r) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => CharKind.Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber
                or UnicodeCategory.OtherNumber => CharKind.Number,
            _ => CharKind.Other,
        };
    }

    /// <summary>A piece's UTF-8 bytes as the byte-level alphabet's characters.</summary>
    private static string ByteLevel(string word)
    {
        var sb = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(word)) sb.Append(ByteChars[b]);
        return sb.ToString();
    }

    /// <summary>GPT-2's byte-to-character map: printable Latin-1 bytes are themselves, the others are moved to
    /// U+0100 and up in byte order, so that no symbol is whitespace or a control character.</summary>
    private static string[] ByteAlphabet()
    {
        static bool Printable(int b) => b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
        var map = new string[256];
        int next = 0;
        for (int b = 0; b < 256; b++) map[b] = ((char)(Printable(b) ? b : 256 + next++)).ToString();
        return map;
    }

    /// <summary>The BPE symbols of one piece: its characters, the last marked as a word end, merged pair by pair
    /// in rank order (the lowest-ranked pair present, every occurrence left to right) until no pair has a
    /// rank.</summary>
    private string[] Bpe(string token)
    {
        lock (_cache)
            if (_cache.TryGetValue(token, out var cached)) return cached;
        var word = token.Select(c => c.ToString()).ToList();
        word[^1] += "</w>";
        while (word.Count > 1)
        {
            (string, string)? best = null;
            int bestRank = int.MaxValue;
            for (int i = 0; i + 1 < word.Count; i++)
                if (_ranks.TryGetValue((word[i], word[i + 1]), out int rank) && rank < bestRank)
                {
                    bestRank = rank;
                    best = (word[i], word[i + 1]);
                }
            if (best is not var (first, second)) break;
            var merged = new List<string>(word.Count);
            for (int i = 0; i < word.Count; i++)
            {
                if (i + 1 < word.Count && word[i] == first && word[i + 1] == second)
                {
                    merged.Add(first + second);
                    i++;
                }
                else merged.Add(word[i]);
            }
            word = merged;
        }
        var result = word.ToArray();
        lock (_cache) _cache[token] = result;
        return result;
    }
}
