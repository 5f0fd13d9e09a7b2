"Package setup for koniq_lt; metadata and requirements come from settings.ini (nbdev 2 convention)."
import configparser
from pathlib import Path
from setuptools import find_packages, setup

here = Path(__file__).parent
config = configparser.ConfigParser(delimiters=['='])
config.read(here/'settings.ini', encoding='utf-8')
cfg = config['DEFAULT']

licenses = {'apache2': ('Apache Software License 2.0', 'License :: OSI Approved :: Apache Software License')}
statuses = ['1 - Planning', '2 - Pre-Alpha', '3 - Alpha', '4 - Beta', '5 - Production/Stable',
            '6 - Mature', '7 - Inactive']
py_versions = ['3.10', '3.11', '3.12', '3.13']
min_python = cfg['min_python']
lic = licenses[cfg['license']]

setup(
    name=cfg['lib_name'],
    version=cfg['version'],
    description=cfg['description'],
    long_description=(here/'README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    author=cfg['author'],
    author_email=cfg['author_email'],
    license=lic[0],
    url=cfg['git_url'],
    keywords=cfg['keywords'],
    classifiers=[f"Development Status :: {statuses[int(cfg['status'])]}",
                 f"Intended Audience :: {cfg['audience']}",
                 f"Natural Language :: {cfg['language']}", lic[1]]
                + [f'Programming Language :: Python :: {v}' for v in py_versions[py_versions.index(min_python):]],
    python_requires=f'>={min_python}',
    packages=find_packages(include=[cfg['lib_path'], f"{cfg['lib_path']}.*"]),
    include_package_data=True,
    # The shipped data (KonIQ MOS table, Kodak pristines) live in the repository's data/ folder; a
    # non-editable install puts them under <prefix>/share/koniq_lt/data, where koniq_lt.core.data_dir looks.
    data_files=[('share/koniq_lt/data', [str(p.relative_to(here)) for p in sorted((here/'data').glob('*.*'))]),
                ('share/koniq_lt/data/kodak', [str(p.relative_to(here)) for p in sorted((here/'data/kodak').glob('*.png'))]),
                # the parameterised experiment notebook that koniq-lt-sweep runs through papermill
                ('share/koniq_lt/nbs', ['nbs/experiment.ipynb'])],
    install_requires=cfg.get('requirements', '').split(),
    # data, split and analysis need no torch; `train` adds the fastai/torch stack and papermill, `cluster` Ray for sweeps on a
    # cluster, `dev` all of those and the test and notebook tools
    extras_require={'train': cfg.get('train_requirements', '').split(),
                    'cluster': cfg.get('train_requirements', '').split() + cfg.get('cluster_requirements', '').split(),
                    'dev': cfg.get('train_requirements', '').split() + cfg.get('cluster_requirements', '').split() + cfg.get('dev_requirements', '').split()},
    entry_points={'console_scripts': cfg.get('console_scripts', '').split(),
                  'nbdev': [f"{cfg['lib_path']}={cfg['lib_path']}._modidx:d"]},
    zip_safe=False,
)
