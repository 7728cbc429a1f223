using Longshot.Diffusion.Clips;
using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Schemes;
using Longshot.Tensors;
using Xunit;

namespace Longshot.Diffusion.Tests;

/// <summary>
/// The ways of generating are types found in one registry: each owns its name, settings, validation, plan and run
/// folder key, and a request carries the scheme with its own settings only.
/// </summary>
public class SchemeRegistryTests
{
    private static readonly Storyline Story = Storyline.Parse("0-: a red ball\n", frames: 64);

    [Fact]
    public void EverySchemeIsFoundByItsNameWithItsDefaults()
    {
        Assert.Equal(new[] { "dod", "ar", "clips", "extended" }, GenerationSchemes.Names);
        foreach (var s in GenerationSchemes.All) Assert.Equal(s, GenerationSchemes.Parse(s.Name));
        Assert.Equal(new DiffusionOverDiffusion(), GenerationSchemes.Parse("dod"));
        Assert.Equal(new ClipParallel(new ClipSettings()), GenerationSchemes.Parse("clips"));
        Assert.Equal(new[] { "dod", "ar", "clips" }, GenerationSchemes.OnStoryModels.Select(s => s.Name));
        Assert.Null(GenerationSchemes.TryParse("zigzag"));
        var e = Assert.Throws<SettingException>(() => GenerationSchemes.Parse("zigzag"));
        Assert.Equal(nameof(GenerationRequest.Scheme), e.Setting);
        Assert.Contains("dod, ar, clips, extended", e.Message);
    }

    [Fact]
    public void ASchemesOwnSettingsKeyItsRunFolderAsBefore()
    {
        // Run folders made before schemes were types are keyed by the same text, so they still resume.
        var r = new GenerationRequest(Story, 64) { Scheme = new DiffusionOverDiffusion(), Seed = 5 };
        Assert.StartsWith("dod|64|16|5|", r.Identity);
        Assert.Contains("|spread|auto|0-64:a red ball", r.Identity);
        Assert.Contains("|spread|3|", (r with { Scheme = new DiffusionOverDiffusion(3) }).Identity);
        var clips = r with { Scheme = new ClipParallel() };
        Assert.Contains("|" + new ClipSettings().Identity + "|0-64", clips.Identity);
        Assert.DoesNotContain("spread", (r with { Scheme = new Autoregressive() }).Identity);
    }

    [Fact]
    public void EachSchemeValidatesAndPlansItself()
    {
        var r = new GenerationRequest(Storyline.Parse("0-: a red ball\n", frames: 1024), 1024)
        {
            Scheme = new DiffusionOverDiffusion(),
        };
        Assert.Equal(3, r.Validate().Scheme.Plan(r).LevelFrames.Count);
        Assert.Equal("Level 1: 16 frames (global keyframes)", r.Scheme.Plan(r).LevelTitle(0));
        var shallow = Assert.Throws<SettingException>(() => (r with { Scheme = new DiffusionOverDiffusion(1) })
            .Validate());
        Assert.Equal(nameof(DiffusionOverDiffusion.Depth), shallow.Setting);
        var ar = r with { Scheme = new Autoregressive() };
        Assert.Equal(new[] { 1024 }, ar.Scheme.Plan(ar).LevelFrames.Select(l => l.Count));
        Assert.DoesNotContain("keyframes", ar.Scheme.Plan(ar).LevelTitle(0));
        var resume = Assert.Throws<SettingException>(() => (ar with { RunDir = "runs/x" }).Validate());
        Assert.Equal(nameof(GenerationRequest.RunDir), resume.Setting);
        var clip = r with { Scheme = new ClipParallel(new ClipSettings(ClipFrames: 16)) };
        Assert.Equal(64, clip.Scheme.Plan(clip).Units);
        Assert.Equal("step 3/8", clip.Scheme.ProgressNote(new GenerationProgress(1, 1, 3, 8, 3, 8)));
        Assert.Equal(Enumerable.Range(0, 64).Select(c => 16 * c), clip.Scheme.Seams(clip)!);
        Assert.Null(r.Scheme.Seams(r));
        Assert.Equal(new[] { "clips-global", "clips-independent", "clips-local" },
            clip.Scheme.Ablations.Select(a => a.Name).Order());
        Assert.All(clip.Scheme.Ablations, a => Assert.IsType<ClipParallel>(a.Scheme));
        Assert.Empty(r.Scheme.Ablations);
        Assert.Equal("depth 3; ", new DiffusionOverDiffusion(3).SettingsNote);
        Assert.Equal("", r.Scheme.SettingsNote);
        Assert.Equal("level 2/3", r.Scheme.ProgressNote(new GenerationProgress(2, 3, 1, 15, 2, 30)));
    }

    [Fact]
    public void WhatASchemeCanDoIsItsOwnAnswer()
    {
        var dod = GenerationSchemes.Parse("dod");
        Assert.True(dod.Resumes && dod.Redraws && dod.RunsOverRanks && dod.RunsOnDevice && dod.HasKeyframes);
        var ar = GenerationSchemes.Parse("ar");
        Assert.False(ar.Resumes || ar.Redraws || ar.RunsOverRanks);
        var clips = GenerationSchemes.Parse("clips");
        Assert.True(clips.Resumes && clips.RunsOverRanks);
        Assert.False(clips.RunsOnDevice || clips.Redraws);
        var extended = GenerationSchemes.Parse("extended");
        Assert.False(extended.OnStoryModels || extended.RunsOverRanks);
        var r = new GenerationRequest(Story, 16) { Scheme = ar };
        var serve = Assert.Throws<SettingException>(() => ar.ServeRank(null!, r, null!, default));
        Assert.Contains("one process", serve.Message);
    }
}
