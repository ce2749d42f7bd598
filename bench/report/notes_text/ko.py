"""The study notes in Korean, with the notes' own terms (베이스 이미지, 첫 빌드, 캐시, 레이어).

Sentences are built so that no particle follows a filled-in value: 이/가, 은/는 and 을/를
depend on the word before them, and a value may end in a letter, a digit or a unit.
"""

from __future__ import annotations

from bench.report.notes_text.template import NotesText

TEXT = NotesText(
    title="# 실습 노트: 측정값으로 채운 표",
    intro=(
        "Docker 실습 노트의 표를 dockerfile-bench로 측정한 값으로 채우고, 표마다 그 이유를 "
        "한두 문장으로 덧붙였습니다. 자세한 내용은 `reports/latest.md`에 있습니다."
    ),
    not_measured="측정하지 않음",
    failed="실패: {reason}",
    skipped="건너뜀: {reason}",
    percent="{value}%",
    source=(
        "출처: 실행 `{run_id}` ({date}), Docker Engine {engine}, 이미지 저장소 {store} "
        "({driver}), {bases}"
    ),
    bases_standin=(
        "베이스 이미지는 실습 환경의 대체 이미지(Docker Hub 이미지가 아니라 Debian 패키지로 "
        "만든 것이므로 크기는 참고용)"
    ),
    bases_registry="베이스 이미지는 레지스트리에서 받은 것",
    source_sizes=(
        "{source}. 변형마다 첫 빌드(캐시 없음)로 만든 이미지 하나를 쟀습니다(크기는 빌드마다 "
        "달라지지 않으므로 n=1). 1 MB = 1,000,000바이트."
    ),
    source_times=("{source}. 칸마다 빌드 n={n}회의 중앙값이며, 편차(변동 계수)는 최대 {cv}입니다."),
    source_times_none="{source}. 시간을 잰 빌드가 없습니다.",
    source_diff=(
        "{source}. 각 이미지의 레이어 분석(`docker save`로 읽음) 결과이며, 전체 비교는 "
        "`python -m bench diff {a} {b}`로 볼 수 있습니다."
    ),
    source_dive=(
        "{source}. 각 이미지의 레이어 분석(`docker save`로 읽음)을 dive와 같은 방식으로 "
        "셌습니다. 레이어 전체는 `python -m bench layers IMAGE`로 볼 수 있습니다."
    ),
    size_heading="### 이미지 크기 비교",
    size_header=("베이스 이미지", "크기", "압축 크기 (pull 전송량)"),
    multistage_label="멀티 스테이지 ({base})",
    size_sentence=(
        "가장 작은 이미지는 {smallest}({size})이며, {largest}({largest_size})보다 {saved} "
        "작습니다. pull할 때 실제로 받는 압축 크기는 {compressed}입니다."
    ),
    size_why=(
        "차이는 베이스 이미지 자체에서 납니다. 베이스 레이어만 {largest}에서는 "
        "{largest_base}, {smallest}에서는 {smallest_base}인 반면, Dockerfile이 그 위에 "
        "얹은 패키지·바이트코드·앱은 어느 이미지에서나 {top_min}~{top_max} 정도입니다."
    ),
    size_single="측정된 이미지가 {label}({size}) 하나뿐이라 비교할 대상이 없습니다.",
    size_none="빌드된 이미지가 없어 비교할 수 없습니다.",
    alpine_standin=(
        "여기서 {label} 행은 실습 환경의 대체 이미지입니다. 크기는 Alpine 수준이지만 musl이 "
        "아닌 glibc 기반이라, pip이 Debian과 똑같은 manylinux 휠을 설치했습니다. 실제 "
        "Alpine에서는 musllinux 휠이 필요하고 휠이 없는 패키지는 소스에서 컴파일하는데, 이번 "
        "실행 결과에는 휠 검사가 없어 어떤 패키지가 그런지 알 수 없습니다. 따라서 이 행은 "
        "실제 Alpine을 대표하지 않을 수 있습니다."
    ),
    alpine_not_representative=(
        "여기서 {label} 행은 실습 환경의 대체 이미지입니다. 크기는 Alpine 수준이지만 musl이 "
        "아닌 glibc 기반이라, pip이 manylinux 휠을 설치했고 컴파일한 패키지는 없습니다. "
        "실제 Alpine에서는 위 패키지를 소스에서 컴파일해야 하므로, 이 행의 크기와 빌드 "
        "시간은 실제 Alpine을 **대표하지 않습니다**."
    ),
    alpine_standin_all_wheels=(
        "여기서 {label} 행은 실습 환경의 대체 이미지(musl이 아닌 glibc 기반)입니다. 모든 "
        "패키지에 musllinux 휠이 있으므로 실제 Alpine에서도 휠로 설치되지만, 설치되는 "
        "파일은 다릅니다."
    ),
    not_representative_mark=" (실제 Alpine을 대표하지 않음)",
    wheels_missing_one=(
        "{label}({libc})에서는 패키지 {total}개 중 {count}개에 휠이 없어, {packages} 패키지는 "
        "소스에서 컴파일됩니다."
    ),
    wheels_missing=(
        "{label}({libc})에서는 패키지 {total}개 중 {count}개에 휠이 없어, {packages} "
        "패키지는 소스에서 컴파일됩니다."
    ),
    wheels_not_installable=(
        "검사한 인덱스에는 {packages} 패키지를 설치할 파일(휠도 sdist도)이 없습니다."
    ),
    wheels_all_musl=(
        "{label}(musl)에서도 패키지 {total}개 모두 musllinux 휠이 있어, 소스에서 컴파일할 "
        "패키지가 없습니다."
    ),
    time_heading="### 빌드 시간 비교",
    time_situation="상황",
    time_header="시간: {variant}",
    time_good_header="시간: {variant} (레이어 순서 좋음)",
    time_naive_header="시간: {variant} (수정하면 의존성 재설치)",
    time_rows=("첫 빌드", "코드 수정 후 재빌드 (캐시 활용)"),
    time_cell="{median} (중앙값, n={n}, {minimum}~{maximum})",
    time_cell_single="{median} (n=1)",
    time_good_sentence=(
        "{variant}에서는 코드 수정 후 재빌드에 {edit}, 즉 첫 빌드({cold})의 {ratio}만 "
        "걸렸습니다. 의존성 설치 레이어는 캐시에서 그대로 가져오고 {steps}단계 중 {rerun}단계만 "
        "다시 실행했기 때문입니다."
    ),
    time_naive_sentence=(
        "{variant}에서는 같은 수정에 {edit}, 즉 첫 빌드({cold})의 {ratio}가 걸렸습니다. "
        "`{busted}` 단계가 `{reinstall}`보다 먼저 수정된 파일을 복사하므로, 코드만 바꿔도 그 "
        "뒤 레이어의 캐시가 깨져 의존성을 처음부터 다시 설치했기 때문입니다."
    ),
    time_no_naive=(
        "이번 실행에서는 코드 수정으로 의존성을 다시 설치한 변형이 없어, 비교할 나쁜 순서의 "
        "열이 없습니다."
    ),
    time_no_good="이번 실행에서는 모든 변형이 코드 수정 후 의존성을 다시 설치했습니다.",
    time_incomplete="{variant}: 첫 빌드나 재빌드를 측정하지 않아 비율을 낼 수 없습니다.",
    savings_heading="### 멀티 스테이지 빌드: 이미지 크기 XX% 절감",
    savings_headline="**이미지 크기 {saved} 절감**: {reference} 대비 {label}",
    savings_headline_larger="**이미지 크기 절감 없음, {larger}**: {reference} 대비 {label}",
    savings_none="이번 실행에는 멀티 스테이지 변형이 없어 XX%를 채울 수 없습니다.",
    savings_header=("비교", "이전", "이후", "절감"),
    savings_larger="{percent} 증가",
    savings_vs_same_larger=(
        "최종 베이스 이미지가 같은 {same}에 비하면 {label} 쪽이 오히려 {delta} 큽니다. "
        "두 이미지의 베이스 레이어가 똑같이 {base}라서 멀티 스테이지로 덜어 낼 빌드 도구가 "
        "없었습니다. 레이어 분석으로 늘어난 항목을 보면 {changes}입니다."
    ),
    savings_vs_same_smaller=(
        "최종 베이스 이미지가 같은 {same}에 비하면 {label} 쪽이 {delta} 작습니다. "
        "가장 크게 달라진 것은 {changes}입니다."
    ),
    savings_only_in="{packages} 패키지는 {label}에만 설치되어 있습니다.",
    diff_header=("항목", "차이"),
    package_label="{name} (패키지)",
    group_names={
        "base": "베이스 이미지",
        "runtime": "Python 런타임",
        "package": "패키지",
        "pip-cache": "pip 캐시",
        "apt": "apt 캐시와 목록",
        "bytecode": "바이트코드 (.pyc)",
        "tests-docs": "패키지 안의 테스트·문서",
        "app": "앱",
        "other": "기타 파일",
    },
    list_separator=", ",
    dive_heading="### dive로 볼 것: 레이어별 크기, 낭비 바이트, 큰 패키지",
    dive_header=(
        "이미지",
        "Dockerfile이 만든 가장 큰 레이어",
        "낭비 바이트 (효율)",
        "가장 큰 패키지",
    ),
    dive_no_layer="없음 (베이스 레이어뿐)",
    dive_wasted="{wasted} ({efficiency})",
    dive_small=(
        "dive에 나올 낭비 바이트는 가장 많은 {label}에서도 {wasted}, 어느 이미지에서나 "
        "{threshold} 미만입니다. "
        "레이어끼리 파일을 중복하거나 지우는 일이 거의 없으니, 여기서 줄일 것은 많지 않습니다."
    ),
    dive_large=(
        "{label}에서 dive에 나올 낭비 바이트는 {wasted}입니다. 한 레이어가 추가한 파일을 뒤 "
        "레이어가 덮어쓰거나 지운 것이므로, 파일을 추가하는 그 레이어 안에서 지워야 합니다."
    ),
    dive_remove=(
        "{label}에서 지워 볼 만한 불필요한 파일: 바이트코드(.pyc) {bytecode}, 패키지 안의 "
        "테스트·문서 {tests}."
    ),
)
