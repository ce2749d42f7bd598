"""Views regenerated from results files: markdown, CSV, charts. No Docker."""
