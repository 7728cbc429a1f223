namespace Longshot.Diffusion.Pipelines;

/// <summary>Progress of a generation: the level and units done in it.</summary>
/// <param name="Level">Level (1 = global) of the batch that just finished.</param>
/// <param name="Levels">Levels of the plan.</param>
/// <param name="UnitsDone">Units of that level done so far, of <paramref name="Units"/>.</param>
/// <param name="Units">Units of that level.</param>
/// <param name="AllDone">Units of every level done so far, of <paramref name="AllUnits"/>: levels overlap, so this
/// is the one to show.</param>
/// <param name="AllUnits">Units of every level.</param>
public sealed record GenerationProgress(int Level, int Levels, int UnitsDone, int Units, int AllDone, int AllUnits);
