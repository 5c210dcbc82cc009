"""What several pages draw: widgets, latent maps (live or plotly), panels, the training film."""
