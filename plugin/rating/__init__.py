"""`lfd rate`: physicians' SUS ratings (HuaTuo's Safety, Usability, Smoothness, each 1–3) of several models' answers.

``rubric`` the dimensions, columns and the Chinese rubric; ``export`` the blinded workbook and its key;
``sheets`` the filled sheets read back, checked and unblinded (:func:`.sheets.read_ratings`, which the LLM
judge uses too); ``sus`` each model's means, paired differences and agreement; ``agreement``
Krippendorff's alpha and :func:`.agreement.judge_agreement` (an LLM judge against the physicians).
"""
