"""The knowledge-base assistant: stored bases of the user's documents (store), the model behind it
(models), one question answered with its sources (assistant), and the web app (app)."""
