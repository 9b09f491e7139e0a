"""The ways a digest reaches people: ``email`` (SMTP), and the messenger channels set per unit
or person in the admin (``ReminderChannel``): ``wecom`` (企业微信 group robot), ``dingtalk`` (钉钉
group robot, signed), ``webhook`` (generic JSON, optionally signed); ``batch`` sends a claimed
batch of those, ``text`` says what their messages say, ``http`` posts and reads the answer."""
