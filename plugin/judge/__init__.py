"""`lfd judge`: an LLM judge behind any OpenAI-compatible endpoint (plugin/endpoint.py asks it).

- :mod:`.prompts`: the editable Chinese templates shipped in ``templates/`` (``pointwise_sus.txt``:
  HuaTuo's Safety / Usability / Smoothness, 1-3 each; ``pairwise.txt``: which of answers A and B is
  better), a ``--template`` file in their place, and the question each prediction asks;
- :mod:`.verdicts`: the strict reading of a reply (exactly one JSON object with the keys and values
  in range, else "unparseable": counted and shown, never a score);
- :mod:`.summary`: means with bootstrap intervals over questions, win/tie/loss over both answer
  orders, the orders' disagreement (position bias) with Clopper-Pearson;
- :mod:`.run`: the requests of a pointwise or pairwise judgement and the report they give.
"""
