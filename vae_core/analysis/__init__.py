"""What a trained model is measured and explored with.

metrics      evaluate(): ELBO terms, IW-NLL, active units, kNN accuracy, with standard errors
density      the aggregate posterior q(z) as a mixture (or a KDE for point masses)
holes        prior holes: where q(z) < p(z)/10; the density-ratio map; the codes' scale
quality      sample quality judged by a classifier
samplers     ex-post densities fitted to the codes (Gaussian, mixture)
latent       interpolation, manifold grids, traversals, neighbours
directions   attribute directions and class arithmetic
projection   2-D maps of the codes: native, PCA, t-SNE, UMAP
wording      how the lesson's figures are written (the codes' spread), for the app and the README
typicality   how typical an image is for a model: its −ELBO as a percentile of held-out data
"""
