"""NaVAB's alignment tools: DPO pairs from triples (S chosen over RS), a topic-held-out split,
S-RS log-likelihood margins, the plan the site's alignment jobs follow, and the pipeline's
`dpo-pairs`/`align` commands (pairs from a run before Conflict Reduction). Training itself is
`evaluation.alignment`'s, shared by every benchmark."""
