"""The training machinery: data adapters, the step/epoch loop and progress display."""
