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
elbo         one image's ELBO, every term of it (elbo_report; its stages in elbo_parts), from:
  likelihood         log p(x, z), log q from ε, what each kind of model lacks and why
  quadrature         exact log p(x) at D = 2 (exact_nll), adaptive grids per image
  posterior_grid     p(z|x) on a grid with its 1σ/2σ regions; Gaussian expectations by quadrature
  gaps               q*(z|x) for one image: approximation and amortisation gaps (Cremer et al.)
  estimator_curves   the L-sample ELBO and the K-sample IW bound against L and K
  gradient_variance  reparameterised vs score-function gradients of the ELBO
"""
