"""Human-facing outputs: the HTML report."""
