# ruff: noqa: E501  (data: one sentence a line reads better than wrapped strings)
"""Hand-written parallel English/Chinese passages from an enterprise knowledge base, with questions.

Written for this project (no installed package ships Chinese–English parallel text). Questions
paraphrase their passage rather than copy it, so dense retrieval has real work to do; a few
carry codes or model names, as real workplace questions do.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pair:
    en_text: str
    zh_text: str
    en_question: str
    zh_question: str


PAIRS: tuple[Pair, ...] = (
    Pair(
        "Employees may carry over at most five days of unused annual leave into the next year; the rest lapses on 31 March.",
        "员工最多可将五天未休年假结转到下一年，其余假期在3月31日作废。",
        "How many vacation days can I move to next year?",
        "没休完的年假能留到明年吗？最多几天？",
    ),
    Pair(
        "Travel expenses must be submitted in the expense system within 30 days of the trip, with scanned receipts attached.",
        "差旅费用须在出差结束后30天内通过报销系统提交，并附上扫描的发票。",
        "What is the deadline for claiming travel costs?",
        "出差回来多久之内要报销？",
    ),
    Pair(
        "To reset your network password, open the self-service portal, answer two security questions and choose a password of at least twelve characters.",
        "重置网络密码时，请打开自助服务门户，回答两个安全问题，并设置至少十二位的新密码。",
        "I forgot my login password, how do I change it myself?",
        "忘记了登录密码，怎么自己修改？",
    ),
    Pair(
        "The VPN client must be updated to version 5.2 or later before it can connect to the new gateway.",
        "VPN客户端必须升级到5.2或更高版本，才能连接新的网关。",
        "Why can't my VPN connect to the new gateway?",
        "为什么VPN连不上新网关？",
    ),
    Pair(
        "Visitors must register at the front desk, wear a visitor badge at all times and be accompanied by their host.",
        "访客须在前台登记，全程佩戴访客证，并由接待人陪同。",
        "What are the rules for guests coming to the office?",
        "有客人来公司参观需要注意什么？",
    ),
    Pair(
        "Fire extinguishers are inspected every month by the facilities team, and each inspection is recorded on the tag.",
        "灭火器由后勤部门每月检查一次，每次检查都记录在标签上。",
        "How often are the fire extinguishers checked?",
        "灭火器多久检查一次？",
    ),
    Pair(
        "New laptops are ordered through the IT request form; delivery usually takes five working days.",
        "新笔记本电脑通过IT申请表订购，一般五个工作日内送达。",
        "How do I get a new notebook computer and how long does it take?",
        "申请新电脑要多久才能拿到？",
    ),
    Pair(
        "The cafeteria serves lunch from 11:30 to 13:30; vegetarian dishes are available every day.",
        "食堂午餐供应时间为11:30至13:30，每天都有素食。",
        "When is lunch served in the canteen?",
        "食堂几点开饭？有素菜吗？",
    ),
    Pair(
        "Parental leave is 14 weeks at full pay and can be split into up to three blocks within the child's first two years.",
        "育儿假为14周全薪，可在孩子出生后两年内分三次休完。",
        "How long is paid leave after having a baby?",
        "生孩子以后可以休多久带薪假？",
    ),
    Pair(
        "All production servers are backed up nightly at 02:00, and backups are kept for 35 days in a second data centre.",
        "所有生产服务器每晚2点备份，备份在第二个数据中心保存35天。",
        "How long do we keep server backups?",
        "服务器的备份保留多长时间？",
    ),
    Pair(
        "The forklift may only be driven by staff who hold a valid operator certificate and have completed the site induction.",
        "只有持有效操作证并完成现场入职培训的员工才能驾驶叉车。",
        "Who is allowed to operate the fork lift truck?",
        "谁可以开叉车？",
    ),
    Pair(
        "Safety shoes and a hard hat are mandatory in the warehouse; hearing protection is required near the compressors.",
        "仓库内必须穿安全鞋、戴安全帽；在压缩机附近还须佩戴护耳器。",
        "What protective equipment do I need in the warehouse?",
        "进仓库要穿戴哪些防护用品？",
    ),
    Pair(
        "The printer on the third floor, model HP M479, runs out of toner often; spare cartridges are in the supply room.",
        "三楼的打印机型号为HP M479，经常缺墨粉，备用硒鼓放在物料间。",
        "Where can I find a toner cartridge for the HP M479 printer?",
        "HP M479打印机没墨了，备用硒鼓在哪里？",
    ),
    Pair(
        "Purchases above 10,000 euros need approval from the department head and a second quote from another supplier.",
        "超过一万欧元的采购需经部门负责人批准，并需另一家供应商的报价。",
        "What approvals do I need for a large purchase?",
        "大额采购需要什么审批？",
    ),
    Pair(
        "Customer complaints must be answered within two working days and logged in the CRM with a case number.",
        "客户投诉必须在两个工作日内回复，并在CRM中登记案例编号。",
        "How quickly do we have to respond to an unhappy customer?",
        "客户投诉要多快回复？",
    ),
    Pair(
        "Overtime is paid at 150 percent of the hourly rate on weekdays and 200 percent on public holidays.",
        "工作日加班按小时工资的150%支付，法定节假日按200%支付。",
        "How much extra do I earn for working on a holiday?",
        "节假日加班工资怎么算？",
    ),
    Pair(
        "The meeting rooms can be booked in the calendar up to four weeks in advance; unused bookings are released after 15 minutes.",
        "会议室可在日历中提前最多四周预订，预订后15分钟未使用将自动释放。",
        "How far ahead can a conference room be reserved?",
        "会议室最早可以提前多久预约？",
    ),
    Pair(
        "Error E-42 on the ticket machine means the paper roll is empty; open the front cover and insert a new roll.",
        "售票机显示错误E-42表示纸卷用完，请打开前盖装入新纸卷。",
        "The ticket machine shows E-42, what do I do?",
        "售票机报E-42是什么问题？",
    ),
    Pair(
        "Remote work is allowed up to three days a week after agreement with your manager; core hours are 10:00 to 15:00.",
        "经主管同意，每周最多可远程办公三天；核心工作时间为10:00至15:00。",
        "Can I work from home, and how many days?",
        "每周可以在家办公几天？",
    ),
    Pair(
        "Confidential documents must be shredded in the locked bins, never thrown in ordinary paper recycling.",
        "机密文件必须放入上锁的碎纸箱销毁，不得丢进普通废纸回收箱。",
        "How should sensitive papers be disposed of?",
        "保密文件应该怎么处理掉？",
    ),
    Pair(
        "Phishing e-mails should be reported with the 'Report phish' button in Outlook; do not click links or open attachments.",
        "钓鱼邮件应使用Outlook中的“报告钓鱼”按钮举报，不要点击链接或打开附件。",
        "I received a suspicious email, what should I do?",
        "收到可疑邮件怎么办？",
    ),
    Pair(
        "The annual performance review takes place in November; employees prepare a self-assessment one week before.",
        "年度绩效评估在十一月进行，员工需提前一周准备自我评估。",
        "When are yearly appraisals held?",
        "年终考核是什么时候？",
    ),
    Pair(
        "Company cars must be refuelled with the fuel card only, and the mileage is entered in the logbook after each trip.",
        "公司车辆只能用加油卡加油，每次出行后须在行车日志中记录里程。",
        "How do I pay for petrol in a company car?",
        "开公司的车加油怎么付钱？",
    ),
    Pair(
        "Sick leave longer than three days requires a doctor's certificate sent to HR.",
        "病假超过三天须向人事部提交医生证明。",
        "When do I need a medical note for being ill?",
        "请病假什么情况下要开医生证明？",
    ),
    Pair(
        "The pallet racking is inspected once a year by an external expert; damaged uprights must be reported immediately.",
        "货架每年由外部专家检查一次，立柱损坏须立即上报。",
        "Who inspects the warehouse shelving and how often?",
        "仓库货架多久检查一次？",
    ),
    Pair(
        "Wi-Fi for guests is called GUEST-NET; the password changes every Monday and is shown at reception.",
        "访客无线网络名为GUEST-NET，密码每周一更换，可在前台查看。",
        "What is the wireless network for visitors?",
        "客人用的WiFi叫什么？密码在哪里看？",
    ),
    Pair(
        "Chemical spills are cleaned with the absorbent kit from the yellow cabinet; the area is closed off until cleaned.",
        "化学品泄漏须使用黄色柜中的吸附套件清理，清理完毕前封闭该区域。",
        "What should I do if a chemical leaks on the floor?",
        "化学品洒了应该怎么处理？",
    ),
    Pair(
        "New employees receive their access card on the first day from security, after signing the IT usage policy.",
        "新员工在签署IT使用规定后，于入职第一天从安保部门领取门禁卡。",
        "When does a new hire get a door badge?",
        "新员工什么时候拿到门禁卡？",
    ),
    Pair(
        "The compressor model AC-300 needs its oil changed every 2,000 operating hours and its air filter every 500 hours.",
        "AC-300型空压机每运行2000小时更换一次机油，每500小时更换空气滤芯。",
        "How often does the AC-300 compressor need maintenance?",
        "AC-300空压机多久保养一次？",
    ),
    Pair(
        "Invoices from suppliers are paid 30 days after receipt unless the contract states otherwise.",
        "除合同另有约定外，供应商发票在收到后30天内付款。",
        "What are our payment terms for vendor bills?",
        "供应商的发票多久付款？",
    ),
    Pair(
        "Training courses are booked through the learning portal; each employee has a budget of 1,500 euros a year.",
        "培训课程通过学习平台预订，每位员工每年有1500欧元的预算。",
        "How much money can I spend on courses each year?",
        "每年的培训经费有多少？",
    ),
    Pair(
        "Laptops must be locked with Windows+L whenever you leave your desk, even for a short time.",
        "离开座位时，即使时间很短，也必须按Windows+L锁定电脑。",
        "Do I have to lock my computer when I step away?",
        "离开工位要锁屏吗？",
    ),
    Pair(
        "The emergency assembly point is the car park behind building C; fire wardens wear orange vests.",
        "紧急集合点位于C楼后面的停车场，消防引导员穿橙色背心。",
        "Where do we gather when the fire alarm goes off?",
        "火警响了应该去哪里集合？",
    ),
    Pair(
        "Bicycles can be parked in the covered rack next to the main entrance; showers are on the ground floor.",
        "自行车可停放在正门旁的有顶棚车架，淋浴间在一楼。",
        "Is there a place to leave my bike?",
        "骑车上班车停在哪？",
    ),
    Pair(
        "Software licences are requested through the service desk; a manager must confirm the business need.",
        "软件许可证通过服务台申请，需要主管确认业务需求。",
        "How do I get a licence for a program I need?",
        "需要的软件怎么申请授权？",
    ),
    Pair(
        "Quality deviations are recorded in form QF-12 and reviewed weekly by the quality manager.",
        "质量偏差须填写QF-12表格记录，由质量经理每周审查。",
        "Which form is used to report a quality deviation?",
        "发现质量偏差用哪张表登记？",
    ),
    Pair(
        "The loading dock is open for deliveries from 07:00 to 16:00; trucks must book a time slot a day in advance.",
        "装卸平台的收货时间为7:00至16:00，货车须提前一天预约时段。",
        "When can suppliers deliver goods?",
        "送货几点可以进厂？",
    ),
    Pair(
        "First aid kits are in every kitchen, and the names of trained first aiders are posted next to the lifts.",
        "每个茶水间都有急救箱，受过培训的急救员名单贴在电梯旁。",
        "Where can I find a first aid box?",
        "急救箱放在哪里？",
    ),
    Pair(
        "Personal data may only be stored on approved company systems; copying it to USB sticks is forbidden.",
        "个人数据只能存储在公司批准的系统中，禁止复制到U盘。",
        "Can I save customer personal data on a memory stick?",
        "能把客户个人信息拷到U盘上吗？",
    ),
    Pair(
        "The machine guard on the CNC lathe must stay closed while the spindle turns; the interlock stops the spindle if it opens.",
        "数控车床主轴旋转时防护门必须关闭，门一打开联锁装置会使主轴停止。",
        "What happens if the lathe door is opened while it is running?",
        "车床运转时打开防护门会怎样？",
    ),
)
