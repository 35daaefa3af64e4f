"""How to cite the NaVAB benchmark (shown on dataset cards and wherever the data is credited)."""

from typing import Final

NAVAB_PAPER_URL: Final = "https://arxiv.org/abs/2504.12911"
NAVAB_PAPER_TITLE: Final = "Benchmarking Multi-National Value Alignment for Large Language Models"

NAVAB_BIBTEX: Final = """\
@inproceedings{ju2025navab,
  title         = {Benchmarking Multi-National Value Alignment for Large Language Models},
  author        = {Ju, Chengyi and Shi, Weijie and Liu, Chengzhong and Ji, Jiaming and
                   Zhang, Jipeng and Zhang, Ruiyuan and Zhu, Jia and Xu, Jiajie and
                   Yang, Yaodong and Han, Sirui and Guo, Yike},
  booktitle     = {Findings of the Association for Computational Linguistics: ACL 2025},
  year          = {2025},
  eprint        = {2504.12911},
  archivePrefix = {arXiv},
  url           = {https://arxiv.org/abs/2504.12911}
}"""
