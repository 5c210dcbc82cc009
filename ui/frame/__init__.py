"""Every page's frame: the sidebar's Context, the URL state, the page list, the warm-up, test probes."""
