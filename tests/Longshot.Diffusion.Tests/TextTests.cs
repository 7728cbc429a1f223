using Longshot.Diffusion.Text;
using Longshot.Tensors;
using Longshot.Tensors.Nn;
using Xunit;

namespace Longshot.Diffusion.Tests;

public class TextTests
{
    private static readonly string[] Captions =
    {
        "Wide shot of the beach at noon. Ziggy, in an orange shirt, waves.",
        "Close-up of the town at night. Pax, in a blue shirt and a top hat, jumps.",
    };

    [Fact]
    public void TokenizerPadsCutsAndMapsUnknownWords()
    {
        var tok = WordTokenizer.Build(Captions, maxLength: 12);
        Assert.Equal("[PAD]", tok.Vocabulary[0]);
        var ids = tok.Encode("Ziggy waves at the zebra.");
        Assert.Equal(12, ids.Length);
        Assert.Equal(WordTokenizer.Bos, ids[0]);
        Assert.Equal(WordTokenizer.Unk, ids[5]); // "zebra"
        Assert.Equal(WordTokenizer.Eos, ids[7]);
        Assert.All(ids[8..], i => Assert.Equal(WordTokenizer.Pad, i));
        Assert.Equal("ziggy waves at the [UNK] .", tok.Decode(ids));
        var longIds = tok.Encode(string.Join(" ", Enumerable.Repeat("noon", 50)));
        Assert.Equal(WordTokenizer.Eos, longIds[^1]);
        var empty = tok.Encode("");
        Assert.Equal(new[] { WordTokenizer.Bos, WordTokenizer.Eos }, empty[..2]);
    }

    [Fact]
    public void TokenizerSavesAndLoads()
    {
        var path = Path.Combine(Path.GetTempPath(), $"tok-{Guid.NewGuid():N}.json");
        try
        {
            var tok = WordTokenizer.Build(Captions, 16);
            tok.Save(path);
            var back = WordTokenizer.Load(path);
            Assert.Equal(tok.Vocabulary, back.Vocabulary);
            Assert.Equal(tok.Encode(Captions[1]), back.Encode(Captions[1]));
            File.WriteAllText(path, "{\"MaxLength\": 5, \"Vocabulary\": [\"a\"]}");
            Assert.ThrowsAny<LongshotException>(() => WordTokenizer.Load(path));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void EncoderIgnoresPaddingAndDistinguishesPrompts()
    {
        var tok = WordTokenizer.Build(Captions, 16);
        var store = new ParameterStore();
        var enc = new TextEncoder(VarBuilder.Fresh(store, 1),
            new TextEncoderConfig { VocabSize = tok.VocabularySize, MaxLength = 16, Hidden = 32, Heads = 4,
            Intermediate = 64 });
        var ids = tok.Encode(Captions[0]).Concat(tok.Encode(Captions[1])).ToArray();
        var h = enc.Forward(ids, 2);
        Assert.Equal(new[] { 2, 16, 32 }, h.Shape);
        // Changing a padding id's embedding row must not change the real tokens' outputs.
        var before = h.Narrow(1, 0, 3).ToArray();
        store["embeddings.token_embedding.weight"].Narrow(0, 0, 1).CopyFrom(Tensor.Full(5f, 1, 32));
        var after = enc.Forward(ids, 2).Narrow(1, 0, 3).ToArray();
        for (int i = 0; i < before.Length; i++) Assert.Equal(before[i], after[i], 4);
        Assert.NotEqual(h.Narrow(0, 0, 1).ToArray(), h.Narrow(0, 1, 1).ToArray());
        Assert.Contains("encoder.layers.1.self_attn.to_q.weight", store.Named.Select(p => p.Name));
    }
}
