using Longshot.Tensors;

namespace Longshot.Diffusion.SvdPostTuning;

/// <summary>
/// The motion bucket id a training clip is labelled with (the second of SVD's added time ids), as ExVideo's
/// post-tuning computes it: the clip's motion score (each pixel's standard deviation over the frames, averaged over
/// channels and pixels, on frames in [-1, 1]) placed among 128 thresholds measured on the authors' data.
/// </summary>
public static class MotionBuckets
{
    /// <summary>The lowest score of each bucket (DiffSynth-Studio's MotionBucketManager).</summary>
    public static IReadOnlyList<double> Thresholds { get; } = new[]
    {
        0.000000000, 0.012205946, 0.015117834, 0.018080613, 0.020614484, 0.021959992, 0.024088068, 0.026323952,
        0.028277775, 0.029968588, 0.031836554, 0.033596724, 0.035121530, 0.037200287, 0.038914755, 0.040696491,
        0.042368013, 0.044265781, 0.046311017, 0.048243891, 0.050294187, 0.052142400, 0.053634230, 0.055612389,
        0.057594258, 0.059410289, 0.061283995, 0.063603796, 0.065192916, 0.067146860, 0.069066539, 0.070390493,
        0.072588451, 0.073959745, 0.075889029, 0.077695683, 0.079783581, 0.082162730, 0.084092639, 0.085958421,
        0.087700523, 0.089684933, 0.091688842, 0.093335517, 0.094987206, 0.096664011, 0.098314710, 0.100262381,
        0.101984538, 0.103404313, 0.105280340, 0.106974818, 0.109028399, 0.111164779, 0.113065213, 0.114362158,
        0.116407216, 0.118063427, 0.119524263, 0.121835820, 0.124242283, 0.126202747, 0.128989249, 0.131672353,
        0.133417681, 0.135567948, 0.137313649, 0.139189199, 0.140912935, 0.143525436, 0.145718485, 0.148315132,
        0.151039496, 0.153218940, 0.155252382, 0.157651082, 0.159966752, 0.162195817, 0.164811596, 0.167341709,
        0.170251891, 0.172651157, 0.175550997, 0.178372145, 0.181039348, 0.183565900, 0.186599866, 0.190071866,
        0.192574754, 0.195026234, 0.198099136, 0.200210452, 0.202522039, 0.205410406, 0.208610669, 0.211623028,
        0.214723110, 0.218520239, 0.222194016, 0.225363150, 0.229384825, 0.233422622, 0.237012610, 0.240735114,
        0.243622541, 0.247465774, 0.252190471, 0.257356376, 0.261856794, 0.266556412, 0.271076709, 0.277361482,
        0.281250387, 0.286582440, 0.291158527, 0.296712339, 0.303008437, 0.311793238, 0.318485111, 0.326999635,
        0.332138240, 0.341770738, 0.354188830, 0.365194678, 0.379234344, 0.401538879, 0.416078776, 0.440871328,
    };

    /// <summary>The motion score of frames [F, C, H, W] in [-1, 1]: the unbiased standard deviation over frames of
    /// every channel and pixel, averaged.</summary>
    public static double Score(Tensor frames)
    {
        int f = frames.Shape[0], per = frames.Numel / f;
        if (f < 2) return 0;
        var v = frames.Contiguous().ToArray();
        double total = 0;
        for (int p = 0; p < per; p++)
        {
            double mean = 0;
            for (int t = 0; t < f; t++) mean += v[t * per + p];
            mean /= f;
            double ss = 0;
            for (int t = 0; t < f; t++) { double d = v[t * per + p] - mean; ss += d * d; }
            total += Math.Sqrt(ss / (f - 1));
        }
        return total / per;
    }

    /// <summary>The bucket of a score: the last whose threshold it reaches.</summary>
    public static int Bucket(double score)
    {
        for (int id = 0; id < Thresholds.Count - 1; id++)
            if (Thresholds[id + 1] > score) return id;
        return Thresholds.Count - 1;
    }
}
