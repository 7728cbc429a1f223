namespace Longshot.Diffusion.Svd;

/// <summary>
/// DiffSynth-Studio's names for Stable Video Diffusion's UNet (the names ExVideo's released extension uses), mapped
/// to diffusers' names, which Longshot's <see cref="SvdUnet"/> uses: the rules of DiffSynth's
/// <c>SVDUNetStateDictConverter.from_diffusers</c> run backwards. DiffSynth numbers the UNet's blocks in one flat list
/// (<c>blocks.N...</c>, stack pushes and pops included); <see cref="BlockNames"/> rebuilds that list from the config.
/// ExVideo's two additions map to <c>time_pos_table</c> and <c>positional_conv</c> of the transformer.
/// </summary>
public static class DiffSynthSvdNames
{
    private static readonly Dictionary<string, string> TopLevel = new()
    {
        ["time_embedding.0"] = "time_embedding.linear_1", ["time_embedding.2"] = "time_embedding.linear_2",
        ["add_time_embedding.0"] = "add_embedding.linear_1", ["add_time_embedding.2"] = "add_embedding.linear_2",
        ["conv_in"] = "conv_in", ["conv_norm_out"] = "conv_norm_out", ["conv_out"] = "conv_out",
    };

    private static readonly Dictionary<string, string> SpatialSuffixes = new()
    {
        ["attn1.to_out"] = "attn1.to_out.0", ["attn2.to_out"] = "attn2.to_out.0", ["act_fn.proj"] = "ff.net.0.proj",
        ["ff"] = "ff.net.2",
    };

    private static readonly Dictionary<string, string> TemporalSuffixes = new()
    {
        ["attn1.to_out"] = "attn1.to_out.0", ["attn2.to_out"] = "attn2.to_out.0",
            ["act_fn_in.proj"] = "ff_in.net.0.proj",
        ["ff_in"] = "ff_in.net.2", ["act_fn_out.proj"] = "ff.net.0.proj", ["ff_out"] = "ff.net.2",
            ["norm_out"] = "norm3",
        ["positional_embedding_proj.0"] = "time_pos_embed.linear_1",
        ["positional_embedding_proj.2"] = "time_pos_embed.linear_2",
    };

    /// <summary>DiffSynth's flat block list for a config: each entry a diffusers module path, or null for a stack
    /// push or pop that has no weights.</summary>
    public static IReadOnlyList<string?> BlockNames(SvdUnetConfig cfg)
    {
        var list = new List<string?>();
        void Resnet(string at, bool upward, bool trailing)
        {
            if (upward) list.Add(null);
            list.AddRange(new[] { at + ".spatial_res_block", null, at + ".temporal_res_block", at + ".time_mixer" });
            if (trailing) list.Add(null);
        }
        void Attention(string at, bool upward, bool trailing)
        {
            if (upward) list.Add(null);
            list.AddRange(new[] { at + ".transformer_blocks", null, at + ".temporal_transformer_blocks",
                at + ".time_mixer" });
            if (trailing) list.Add(null);
        }
        int levels = cfg.Levels;
        for (int i = 0; i < levels; i++)
        {
            for (int j = 0; j < SvdUnetConfig.PerLevel(cfg.LayersPerBlock, i); j++)
            {
                Resnet($"down_blocks.{i}.resnets.{j}", false, true);
                if (cfg.DownHasAttention(i)) Attention($"down_blocks.{i}.attentions.{j}", false, true);
            }
            if (i < levels - 1) list.AddRange(new[] { $"down_blocks.{i}.downsamplers.0.conv", null });
        }
        Resnet("mid_block.resnets.0", false, true);
        Attention("mid_block.attentions.0", false, false);
        Resnet("mid_block.resnets.1", false, false);
        for (int i = 0; i < levels; i++)
        {
            int down = levels - 1 - i;
            for (int j = 0; j <= SvdUnetConfig.PerLevel(cfg.LayersPerBlock, down); j++)
            {
                Resnet($"up_blocks.{i}.resnets.{j}", true, false);
                if (cfg.UpHasAttention(i)) Attention($"up_blocks.{i}.attentions.{j}", true, false);
            }
            if (i < levels - 1) list.Add($"up_blocks.{i}.upsamplers.0.conv");
        }
        return list;
    }

    /// <summary>The diffusers (Longshot) name of a DiffSynth name, or null when it names nothing of this
    /// config.</summary>
    public static string? ToDiffusers(string name, IReadOnlyList<string?> blocks)
    {
        int leafAt = name.LastIndexOf('.');
        if (leafAt < 0) return null;
        string stem = name[..leafAt], leaf = name[(leafAt + 1)..];
        if (TopLevel.TryGetValue(stem, out var top)) return $"{top}.{leaf}";
        var parts = name.Split('.');
        if (parts.Length < 3 || parts[0] != "blocks" || !int.TryParse(parts[1], out int index)
            || index < 0 || index >= blocks.Count || blocks[index] is not { } block)
            return null;
        string rest = string.Join('.', parts[2..]), restStem = rest.Contains('.') ? rest[..rest.LastIndexOf('.')] : "";
        if (block.EndsWith("_res_block", StringComparison.Ordinal)) return $"{block}.{rest}";
        if (block.EndsWith(".conv", StringComparison.Ordinal)) return rest.StartsWith("conv.") ? $"{block[..^5]}.{rest}"
            : null;
        bool attention = block.Contains(".attentions.", StringComparison.Ordinal);
        if (block.EndsWith(".time_mixer", StringComparison.Ordinal))
        {
            if (rest == "mix_factor") return $"{block}.mix_factor";
            string owner = block[..^".time_mixer".Length];
            return attention && restStem == "proj" ? $"{owner}.proj_out.{leaf}" : null;
        }
        if (block.EndsWith(".temporal_transformer_blocks", StringComparison.Ordinal))
        {
            string owner = block[..^".temporal_transformer_blocks".Length];
            if (rest == "positional_embedding.embeddings") return $"{owner}.time_pos_table";
            if (restStem == "positional_conv") return $"{owner}.positional_conv.{leaf}";
            if (restStem.StartsWith("positional_embedding_proj", StringComparison.Ordinal))
                return TemporalSuffixes.TryGetValue(restStem, out var p) ? $"{owner}.{p}.{leaf}" : null;
            return $"{block}.0.{TemporalSuffixes.GetValueOrDefault(restStem, restStem)}.{leaf}";
        }
        if (block.EndsWith(".transformer_blocks", StringComparison.Ordinal))
        {
            string owner = block[..^".transformer_blocks".Length];
            if (restStem is "norm" or "proj_in") return $"{owner}.{rest}";
            if (parts.Length < 6 || parts[2] != "transformer_blocks") return null;
            string suffix = string.Join('.', parts[4..^1]);
            return $"{block}.{parts[3]}.{SpatialSuffixes.GetValueOrDefault(suffix, suffix)}.{leaf}";
        }
        return null;
    }
    private const string TemporalBlocks = ".temporal_transformer_blocks";

    /// <summary>
    /// DiffSynth's name of a parameter of one of its TemporalAttentionBlocks (what ExVideo trains and ships: a
    /// transformer's temporal block with its frame table, position MLP and positional convolution), or null for any
    /// other parameter or one DiffSynth's layout has no place for (a second temporal layer).
    /// </summary>
    public static string? TemporalBlockName(string name, IReadOnlyList<string?> blocks)
    {
        for (int i = 0; i < blocks.Count; i++)
        {
            if (blocks[i] is not { } block || !block.EndsWith(TemporalBlocks, StringComparison.Ordinal)) continue;
            string owner = block[..^TemporalBlocks.Length] + ".";
            if (!name.StartsWith(owner, StringComparison.Ordinal)) continue;
            string rest = name[owner.Length..];
            const string layer = "temporal_transformer_blocks.0.";
            string? theirs = rest == "time_pos_table" ? "positional_embedding.embeddings"
                : rest.StartsWith("positional_conv.", StringComparison.Ordinal) ? rest
                : rest.StartsWith("time_pos_embed.", StringComparison.Ordinal) ? FromSuffix(rest)
                : rest.StartsWith(layer, StringComparison.Ordinal) ? FromSuffix(rest[layer.Length..])
                : null;
            var result = theirs == null ? null : $"blocks.{i}.{theirs}";
            // Only names the forward rules map back to this parameter (a second temporal layer maps nowhere).
            return result != null && ToDiffusers(result, blocks) == name ? result : null;
        }
        return null;
    }

    /// <summary>DiffSynth's name for a temporal block's (or its position MLP's) diffusers suffix and leaf.</summary>
    private static string FromSuffix(string suffixAndLeaf)
    {
        int leafAt = suffixAndLeaf.LastIndexOf('.');
        string stem = suffixAndLeaf[..leafAt], leaf = suffixAndLeaf[(leafAt + 1)..];
        var theirs = TemporalSuffixes.FirstOrDefault(kv => kv.Value == stem).Key;
        return $"{theirs ?? stem}.{leaf}";
    }
}
