"""SCU-side checks (``--role scu``): the suite plays the SCP, one scenario per check, and judges the node that sends."""
