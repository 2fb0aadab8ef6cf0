from easynn.plot.history import history
