from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("scheduler_app", "0010_cron_expression_length"),
    ]

    operations = [
        migrations.AddField(
            model_name="taskauditevent",
            name="source",
            field=models.CharField(
                choices=[
                    ("admin", "Admin"),
                    ("page", "Module page"),
                    ("command", "Command"),
                    ("api", "API"),
                    ("import", "Import"),
                    ("system", "System"),
                    ("code", "Python code"),
                ],
                default="code",
                max_length=16,
                verbose_name="from",
            ),
        ),
        migrations.AddField(
            model_name="taskexecutionlog",
            name="progress_done",
            field=models.PositiveBigIntegerField(
                blank=True, null=True, verbose_name="progress done"
            ),
        ),
        migrations.AddField(
            model_name="taskexecutionlog",
            name="progress_total",
            field=models.PositiveBigIntegerField(
                blank=True, null=True, verbose_name="progress total"
            ),
        ),
        migrations.AddField(
            model_name="taskexecutionlog",
            name="progress_message",
            field=models.CharField(blank=True, max_length=200, verbose_name="progress message"),
        ),
        migrations.AddField(
            model_name="taskexecutionlog",
            name="progress_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="progress reported"),
        ),
    ]
