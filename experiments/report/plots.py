"""The report's figures (matplotlib + seaborn), written as PNG files beside the pages."""

from __future__ import annotations

from pathlib import Path

from experiments.tasks import get_task


def make_plots(finished, out: Path) -> list[tuple[str, str]]:
    import pandas as pd

    from zoo.plotting import pyplot, seaborn

    plt, sns = pyplot(), seaborn()
    labels = sorted(finished["label"].unique())
    variants = sorted(finished["variant"].unique())
    palette = dict(zip(variants, sns.color_palette("tab10", len(variants))))
    made = []

    def figure(name, title, draw, width=5.0):
        fig, axes = plt.subplots(1, len(labels), figsize=(width * len(labels), 4.2), squeeze=False)
        for ax, label in zip(axes[0], labels):
            rows = finished[finished["label"] == label]
            draw(ax, rows, get_task(rows["task"].iloc[0]))
            ax.set_title(label)
        handles, names = axes[0][0].get_legend_handles_labels()
        for ax in axes[0]:
            if ax.get_legend():
                ax.get_legend().remove()
        if handles:
            fig.legend(handles, names, loc="center right", frameon=False)
            fig.subplots_adjust(right=0.85)
        fig.suptitle(title)
        fig.tight_layout(rect=(0, 0, 0.86 if handles else 1, 0.95))
        fig.savefig(out / name, dpi=110)
        plt.close(fig)
        made.append((name, title))

    def curves(ax, rows, task):
        long = []
        for _, row in rows.iterrows():
            history = row["history"] if isinstance(row["history"], dict) else {}
            for epoch, value in enumerate(history.get("val_loss", []), start=1):
                long.append({"epoch": epoch, "validation loss": value, "variant": row["variant"]})
        if long:
            sns.lineplot(pd.DataFrame(long), x="epoch", y="validation loss", hue="variant", palette=palette,
                         errorbar="sd", ax=ax)

    def scores(ax, rows, task):
        sns.boxplot(rows, x="variant", y="score", color="0.9", ax=ax, showfliers=False)
        sns.stripplot(rows, x="variant", y="score", hue="variant", palette=palette, size=7, ax=ax, legend=False)
        ax.set_ylabel(f"test {task.metric}")
        ax.tick_params(axis="x", rotation=45)

    def against(column, xlabel, log=False):
        def draw(ax, rows, task):
            means = rows.groupby("variant").agg(score=("score", "mean"), x=(column, "mean")).reset_index()
            sns.scatterplot(rows, x=column, y="score", hue="variant", palette=palette, alpha=0.4, ax=ax, legend=False)
            sns.scatterplot(means, x="x", y="score", hue="variant", palette=palette, s=120, marker="D", ax=ax)
            ax.set_xlabel(xlabel)
            ax.set_ylabel(f"test {task.metric}")
            if log:
                ax.set_xscale("log")
        return draw

    figure("learning_curves.png", "Validation loss per epoch (mean over seeds, band: ±1 sd)", curves)
    figure("scores.png", "Test score per variant (points: seeds)", scores)
    figure("score_vs_parameters.png", "Test score against parameter count (diamonds: means)",
           against("parameters", "parameters", log=True))
    figure("score_vs_time.png", "Test score against training time (diamonds: means)",
           against("train_seconds", "training time (s)"))

    from experiments.report.tables import normalised_scores

    normalised = normalised_scores(finished)
    if not normalised.empty:
        fig, ax = plt.subplots(figsize=(1.6 + 1.3 * normalised.shape[1], 0.9 + 0.45 * normalised.shape[0]))
        order = normalised.mean(axis=1).sort_values(ascending=False).index
        sns.heatmap(normalised.loc[order], annot=True, fmt=".2f", cmap="viridis", vmin=0, vmax=1, ax=ax,
                    cbar_kws={"label": "0 = baseline, 1 = best"})
        ax.set_title("Normalised test score per task")
        fig.tight_layout()
        fig.savefig(out / "heatmap.png", dpi=110)
        plt.close(fig)
        made.append(("heatmap.png", "Normalised test score per task"))
    return made
